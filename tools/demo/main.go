// Command demo shows the provider end to end with no account and no network (`make demo`).
//
// It builds the provider, serves the bundled Isahit Lab emulator and a webhook receiver on
// loopback, and drives the real Terraform CLI through init, apply, two deliveries, a refresh and
// destroy, checking each step. The provider reaches Terraform through a filesystem mirror named
// in a generated CLI config, so no registry is asked. Everything lives in a temporary directory
// that is removed at the end (unless -keep), and every process it starts is gone when it returns.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var opts options
	flag.BoolVar(&opts.keep, "keep", false, "keep the temporary working directory and print its path")
	flag.Parse()
	opts.color = isTerminal(os.Stdout)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_, err := run(ctx, os.Stdout, opts)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether w is a character device, so Terraform's colours are only asked
// for where someone sees them (not in CI logs or tests).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
