//go:build tools

// Package tools pins kube-score; build with `go build github.com/zegl/kube-score/cmd/kube-score`.
package tools

import _ "github.com/zegl/kube-score/cmd/kube-score"
