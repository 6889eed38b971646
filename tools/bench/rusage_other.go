//go:build !unix

package main

import (
	"os"
	"time"
)

// The benchmark measures with getrusage, which only unix ports have. Elsewhere
// (windows) it still builds, so that `go vet ./...` covers every release OS,
// and reports no CPU or memory.

func selfCPU() time.Duration { return 0 }

func childUsage(*os.ProcessState) (rssKiB int64, cpu time.Duration) { return 0, 0 }
