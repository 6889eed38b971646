package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The seen record keeps every workflow with its two flags and its batch
// count, packs the API's ids into 12 bytes, and falls back to strings for
// any other id; it round-trips through JSON, as private state does.
func TestSeenRecordRoundTrips(t *testing.T) {
	for name, ids := range map[string][]string{
		"object ids": {"6650c1f2a9b4000000000003", "6650c1f2a9b4000000000001", "6650c1f2a9b4000000000002"},
		"other ids":  {"wf-b", "wf-a", "6650c1f2a9b4000000000001"},
	} {
		t.Run(name, func(t *testing.T) {
			inStep := func(w string) bool { return w == ids[0] }
			held := func(w string) bool { return w != ids[2] }
			batches := map[string]int{ids[0]: 1, ids[1]: 300, ids[2]: 0}
			var s seenRecord
			b, err := json.Marshal(newSeen(ids, inStep, held, batches))
			if err != nil || json.Unmarshal(b, &s) != nil {
				t.Fatal(err)
			}
			if (s.Hex != nil) != (name == "object ids") {
				t.Errorf("packed %v, ids %v", s.Hex != nil, s.IDs)
			}
			sorted := slices.Sorted(slices.Values(ids))
			if got := s.ids(); !slices.Equal(got, sorted) {
				t.Fatalf("ids %v, want %v", got, sorted)
			}
			counts := s.batchCounts()
			for i, w := range sorted {
				if counts[i] != batches[w] || s.inStep()(w) != inStep(w) {
					t.Errorf("%s: count %d in step %v", w, counts[i], s.inStep()(w))
				}
			}
			if s.inStep()("not-seen") {
				t.Error("a workflow not seen is in step")
			}
			if got, want := fmt.Sprint(s.held()), fmt.Sprint(slices.DeleteFunc(slices.Clone(sorted), func(w string) bool { return !held(w) })); got != want {
				t.Errorf("held %s, want %s", got, want)
			}
		})
	}
}

// The run a refresh names is the process that started this one (the test
// binary's parent here), stable for the life of the process.
func TestRunIDNamesTheParent(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	id := runID()
	if id == "" || id != runID() || !strings.HasPrefix(id, strconv.Itoa(os.Getppid())+"-") {
		t.Fatalf("runID %q, parent %d", id, os.Getppid())
	}
	if _, name, start := procStat(os.Getpid()); name == "" || start == "" {
		t.Fatalf("procStat of self: %q %q", name, start)
	}
}
