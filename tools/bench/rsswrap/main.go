// Command rsswrap stands in for the provider binary in the benchmark's
// dev_overrides directory. It runs the real binary (named by
// ISAHITLAB_RSSWRAP_TARGET) with its own arguments, environment and standard
// streams, forwards SIGINT and SIGTERM to it, and when it exits appends one
// line to the file named by ISAHITLAB_RSSWRAP_OUT:
//
//	<peak RSS KiB> <user µs> <system µs> <own user µs> <own system µs>
//
// the child's peak resident set size (Linux's ru_maxrss) and CPU time, then
// the wrapper's own CPU time (a terraform process that reaps the wrapper
// counts both in its own rusage, so the benchmark subtracts both to get
// Terraform's own CPU). It exits with the child's code.
//
// A wrapper, rather than sampling /proc from outside, because Terraform
// starts and stops provider processes on its own schedule: only the parent
// that reaps a process gets its exact peak for free.
//
// Unix only (getrusage): the benchmark does not run elsewhere.

//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
)

const (
	envTarget = "ISAHITLAB_RSSWRAP_TARGET"
	envOut    = "ISAHITLAB_RSSWRAP_OUT"
)

func main() { os.Exit(run()) }

func run() int {
	target := os.Getenv(envTarget)
	if target == "" {
		fmt.Fprintln(os.Stderr, "rsswrap: "+envTarget+" is not set")
		return 127
	}
	cmd := exec.Command(target, os.Args[1:]...)
	// *os.File streams are handed to the child as they are (no copying
	// goroutines), so go-plugin's handshake on stdout is untouched.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "rsswrap:", err)
		return 127
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	_ = cmd.Wait() // the exit status is read from ProcessState below
	signal.Stop(sigs)

	st := cmd.ProcessState
	if out := os.Getenv(envOut); out != "" {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			var self syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
			rss := int64(ru.Maxrss) //nolint:unconvert // int32 on some unix ports
			if runtime.GOOS == "darwin" {
				rss /= 1024 // darwin's ru_maxrss is in bytes, not KiB
			}
			line := fmt.Sprintf("%d %d %d %d %d\n", rss,
				micros(ru.Utime), micros(ru.Stime), micros(self.Utime), micros(self.Stime))
			if err := appendLine(out, line); err != nil {
				fmt.Fprintln(os.Stderr, "rsswrap:", err)
			}
		}
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()) // the shell's convention
	}
	return st.ExitCode()
}

// micros by way of Nano: Timeval's fields are int32 on some ports (darwin's Usec).
func micros(tv syscall.Timeval) int64 { return tv.Nano() / 1000 }

// appendLine appends one short line; O_APPEND keeps lines from provider
// processes that end together whole.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
