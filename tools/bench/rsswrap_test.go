//go:build unix

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildWrapper builds rsswrap into a temporary directory.
func buildWrapper(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rsswrap")
	if out, err := exec.Command("go", "build", "-o", bin, "./rsswrap").CombinedOutput(); err != nil {
		t.Fatalf("building rsswrap: %v\n%s", err, out)
	}
	return bin
}

func wrapped(ctx context.Context, bin, out string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), envWrapTarget+"=/bin/sh", envWrapOut+"="+out)
	// On a timeout, kill the child too: a wrapper that failed to forward a
	// signal would otherwise leave it running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

func TestRSSWrap(t *testing.T) {
	bin := buildWrapper(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rss := filepath.Join(t.TempDir(), "rss.txt")

	t.Run("exit code, stdio and one rss line per run", func(t *testing.T) {
		for i, code := range []int{3, 0} {
			cmd := wrapped(ctx, bin, rss, "-c", "read x; echo \"got $x $1\"; exit "+strconv.Itoa(code), "sh", "arg")
			cmd.Stdin = strings.NewReader("input\n")
			out, err := cmd.Output()
			if got := cmd.ProcessState.ExitCode(); got != code {
				t.Fatalf("exit code %d (%v), want the child's %d", got, err, code)
			}
			if string(out) != "got input arg\n" {
				t.Errorf("stdout %q: stdin, stdout or the arguments did not reach the child", out)
			}
			lines := readLines(t, rss)
			if len(lines) != i+1 {
				t.Fatalf("rss file holds %d lines after %d runs, want one per run: %q", len(lines), i+1, lines)
			}
			// A shell's peak RSS: more than nothing, far less than a GiB;
			// then its CPU and the wrapper's, in µs: less than the timeout.
			f := strings.Fields(lines[i])
			if len(f) != 5 {
				t.Fatalf("line %q: want peak KiB, user µs, system µs, own user µs, own system µs", lines[i])
			}
			if kib, err := strconv.ParseInt(f[0], 10, 64); err != nil || kib <= 0 || kib > 1<<20 {
				t.Errorf("rss field %q is not a plausible KiB count", f[0])
			}
			for _, us := range f[1:] {
				if v, err := strconv.ParseInt(us, 10, 64); err != nil || v < 0 || v > 10_000_000 {
					t.Errorf("cpu field %q is not a plausible µs count", us)
				}
			}
		}
	})

	t.Run("SIGTERM reaches the child", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		cmd := wrapped(ctx, bin, rss, "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
			t.Fatalf("child said %q", line)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if got := cmd.ProcessState.ExitCode(); got != 7 {
			t.Errorf("exit code %d, want 7 from the child's TERM trap (killed by the timeout: the signal was not forwarded)", got)
		}
	})

	t.Run("no target", func(t *testing.T) {
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = []string{envWrapOut + "=" + rss}
		if err := cmd.Run(); cmd.ProcessState.ExitCode() != 127 {
			t.Errorf("without %s: %v, want exit 127", envWrapTarget, err)
		}
	})
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}
