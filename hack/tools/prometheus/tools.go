//go:build tools

// Package tools pins promtool and the Prometheus server (same module, same version); build with
// `go build github.com/prometheus/prometheus/cmd/promtool` and `…/cmd/prometheus`. The server is built without
// the `builtinassets` tag: its web UI is not embedded (the tests use the HTTP API only).
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
