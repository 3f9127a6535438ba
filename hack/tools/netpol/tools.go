//go:build tools

// Package tools pins np-guard's netpol-analyzer; build with `go build github.com/np-guard/netpol-analyzer/cmd/netpolicy`.
package tools

import _ "github.com/np-guard/netpol-analyzer/cmd/netpolicy"
