//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// selfCPU is the bench process's own CPU time (the emulator runs in it).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childUsage is the peak RSS (KiB) and CPU (user + system) of an exited
// process, the children it reaped included.
func childUsage(ps *os.ProcessState) (rssKiB int64, cpu time.Duration) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	rssKiB = int64(ru.Maxrss) //nolint:unconvert // int32 on some unix ports
	if runtime.GOOS == "darwin" {
		rssKiB /= 1024 // darwin's ru_maxrss is in bytes, not KiB
	}
	return rssKiB, time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
