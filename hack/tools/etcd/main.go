// Command etcd is upstream etcdmain, built as a module (go install of etcd fails on its replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
