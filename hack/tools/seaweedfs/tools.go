//go:build tools

// Package tools pins SeaweedFS (Apache-2.0), the S3-compatible object store the model-distribution tests
// run against; build with `go build github.com/seaweedfs/seaweedfs/weed`.
package tools

import _ "github.com/seaweedfs/seaweedfs/weed"
