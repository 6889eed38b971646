package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine is shared: other work running during a phase slows it down
// without being its cost. A phase records how much CPU the whole machine
// spent that was neither the bench process (the emulator) nor the terraform
// process with its providers.

// userHZ is the unit of /proc/stat (USER_HZ, 100 on Linux everywhere).
const userHZ = 100

// machineBusy is the CPU time the machine has spent busy since boot, all
// CPUs together (/proc/stat: user, nice, system, irq, softirq, steal); 0
// where /proc/stat cannot be read.
func machineBusy() time.Duration {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	return parseBusy(sc.Text())
}

// parseBusy reads the "cpu" line of /proc/stat.
func parseBusy(line string) time.Duration {
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, f := range fields[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// meter measures the machine over a phase.
type meter struct{ busy, self time.Duration }

func startMeter() meter { return meter{busy: machineBusy(), self: selfCPU()} }

// stop returns the bench's CPU over the phase and the others': the
// machine's busy time minus the bench's and the terraform process's
// (whose rusage counts its providers).
func (m meter) stop(terraform time.Duration) (bench, others time.Duration, ok bool) {
	bench = selfCPU() - m.self
	if m.busy == 0 {
		return bench, 0, false
	}
	others = machineBusy() - m.busy - bench - terraform
	return bench, max(0, others), true
}
