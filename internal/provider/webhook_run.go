package provider

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// A project-scope refresh records what it found (seenRecord) and names the
// Terraform command that made it. An apply trusts that record, to skip a
// walk of the project, only when it runs in that same command: then the
// record is the plan the user approved. A record from another command (a
// saved plan applied later, apply -refresh=false) is never trusted.
//
// A command is named by its process: Terraform (or OpenTofu) starts a
// provider process per graph walk (refresh, plan, apply), all children of
// the one CLI process. Where that cannot be told with certainty, the name
// is "" and nothing is trusted: no /proc (macOS, Windows, FreeBSD), a
// provider not started by the CLI (debug or reattach mode, in-process test
// harnesses), a CLI command that runs several plans and applies in one
// process (terraform test), or a parent that is not a known CLI.

// process is what the run's name is made of.
type process struct {
	ppid  int
	name  string   // the kernel's short name (comm)
	start string   // start time since boot, in clock ticks: tells a reused pid apart
	args  []string // the command line
}

// lookupProcess reads a process's facts; false where the system cannot
// tell. A variable so that tests can be any system.
var lookupProcess = procfsProcess

// currentRun is this process's run name, computed once: its parent does
// not change.
var currentRun = sync.OnceValue(func() string {
	return runID(os.Getpid(), os.Getenv, lookupProcess)
})

// oneCommandApplies are the CLI commands whose plan and apply run in the
// same CLI process, so that a record made by the refresh is the one the
// apply's plan was made from.
var oneCommandApplies = map[string]bool{"apply": true, "destroy": true, "plan": true, "refresh": true}

// runID names the CLI command that process self serves; "" when unknown.
// A parent by self's own name (a wrapper that runs the real provider, as
// the benchmark does to measure it) is skipped.
func runID(self int, getenv func(string) string, lookup func(int) (process, bool)) string {
	if getenv("TF_REATTACH_PROVIDERS") != "" {
		return "" // one provider process serves every command
	}
	me, ok := lookup(self)
	if !ok {
		return ""
	}
	pid := me.ppid
	for range 3 {
		p, ok := lookup(pid)
		if !ok || pid <= 1 || p.start == "" {
			return ""
		}
		if p.name == me.name {
			pid = p.ppid
			continue
		}
		if !isCLI(p.args) || !oneCommandApplies[cliCommand(p.args)] {
			return ""
		}
		return strconv.Itoa(pid) + "-" + p.start
	}
	return ""
}

// isCLI reports whether a command line runs Terraform or OpenTofu (as
// `terraform`, `tofu`, or a versioned name such as `terraform-v1.16.4`).
func isCLI(args []string) bool {
	if len(args) == 0 {
		return false
	}
	name := filepath.Base(args[0])
	return strings.HasPrefix(name, "terraform") || strings.HasPrefix(name, "tofu")
}

// cliCommand is the CLI's subcommand: the first argument after the global
// options (-chdir=DIR and the like).
func cliCommand(args []string) string {
	for _, a := range args[1:] {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// procfsProcess reads a process from /proc.
func procfsProcess(pid int) (process, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return process{}, false
	}
	// The name (field 2) is in parentheses and may hold spaces: count the
	// other fields after its closing one.
	open, end := strings.IndexByte(string(stat), '('), strings.LastIndexByte(string(stat), ')')
	if open < 0 || end < open {
		return process{}, false
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 20 {
		return process{}, false
	}
	p := process{name: string(stat[open+1 : end]), start: f[19]} // field 22
	p.ppid, _ = strconv.Atoi(f[1])                               // field 4
	if cmdline, err := os.ReadFile(dir + "/cmdline"); err == nil {
		p.args = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	}
	return p, true
}
