//go:build tools

// Package tools pins promtool; build with `go build github.com/prometheus/prometheus/cmd/promtool`.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
