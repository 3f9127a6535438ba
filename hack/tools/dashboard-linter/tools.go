//go:build tools

// Package tools pins grafana/dashboard-linter (no tagged release is served, so a pseudo-version of its main
// branch); build with `go build github.com/grafana/dashboard-linter`.
package tools

import _ "github.com/grafana/dashboard-linter"
