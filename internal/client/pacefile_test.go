package client

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestPaceFileRoundTripAndLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Unix(1_700_000_000, 0)
	f := newPaceFile(dir, "https://api.example/", "access-1")
	if _, ok := f.load(now); ok {
		t.Fatal("a state loaded before any save")
	}
	st := paceState{Rate: 480, Ceiling: 510, HoldMS: 4000, Saved: now.Unix()}
	if err := f.save(st); err != nil {
		t.Fatal(err)
	}
	got, ok := f.load(now.Add(time.Minute))
	if !ok || got.Rate != 480 || got.Ceiling != 510 || got.HoldMS != 4000 {
		t.Fatalf("loaded %+v, %v; want what was saved", got, ok)
	}
	if _, ok := f.load(now.Add(PaceTTL + time.Second)); ok {
		t.Fatal("a state older than PaceTTL was trusted")
	}
	if _, ok := f.load(now.Add(-2 * time.Minute)); ok {
		t.Fatal("a state saved in the future was trusted")
	}
	// Another endpoint or access id has its own file.
	for _, other := range []*paceFile{newPaceFile(dir, "https://api.example/", "access-2"), newPaceFile(dir, "https://other.example/", "access-1")} {
		if _, ok := other.load(now); ok {
			t.Fatalf("%s: read the state of another endpoint or access id", other.path)
		}
	}
	// No directory: nothing kept, nothing fails.
	none := newPaceFile("", "https://api.example/", "access-1")
	if err := none.save(st); err != nil {
		t.Fatal(err)
	}
	if _, ok := none.load(now); ok {
		t.Fatal("loaded without a directory")
	}
}

func TestPaceFileRefusesDamage(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	for _, body := range []string{
		``, `{`, `null`, `[]`,
		fmt.Sprintf(`{"v":2,"rate":100,"ceiling":110,"hold_ms":1000,"saved":%d}`, now.Unix()),
		fmt.Sprintf(`{"v":1,"rate":0,"ceiling":110,"hold_ms":1000,"saved":%d}`, now.Unix()),
		fmt.Sprintf(`{"v":1,"rate":-5,"ceiling":110,"hold_ms":1000,"saved":%d}`, now.Unix()),
		fmt.Sprintf(`{"v":1,"rate":1e300,"ceiling":110,"hold_ms":1000,"saved":%d}`, now.Unix()),
		fmt.Sprintf(`{"v":1,"rate":100,"ceiling":-1,"hold_ms":1000,"saved":%d}`, now.Unix()),
		`{"v":1,"rate":100,"ceiling":110,"hold_ms":1000}`,
		strings.Repeat(" ", 5000) + fmt.Sprintf(`{"v":1,"rate":100,"ceiling":110,"saved":%d}`, now.Unix()),
	} {
		f := newPaceFile(t.TempDir(), "https://api.example/", "a")
		if err := os.WriteFile(f.path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if st, ok := f.load(now); ok {
			t.Fatalf("file %.60q loaded as %+v, want ignored", body, st)
		}
	}
}

// The file says nothing about who uses it: no access id, no secret, and a
// name that is a hash.
func TestPaceFileHoldsNoIdentity(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{RateLimit: 50}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	dir := t.TempDir()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.PaceDir = dir; cfg.MaxRetries = 10 })
	fanOut(t, c, b, 120, 8)
	if c.Stats().RateLimited == 0 {
		t.Fatal("no 429: the test did not exercise learning")
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("pace dir holds %v (%v), want one file", entries, err)
	}
	info, _ := entries[0].Info()
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("pace file mode %v, want 0600", info.Mode().Perm())
	}
	body, _ := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	for _, s := range []string{testAccessID, testSecretKey, srv.URL, "127.0.0.1"} {
		if strings.Contains(entries[0].Name(), s) || strings.Contains(string(body), s) {
			t.Fatalf("pace file %s (%s) holds %q", entries[0].Name(), body, s)
		}
	}
}

// Several processes writing at once: a reader always sees one whole state
// (each write replaces the file by a rename).
func TestPaceFileConcurrentWriters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	if err := newPaceFile(dir, "https://api.example/", "a").save(paceState{Rate: 99, Ceiling: 109, Saved: now.Unix()}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			f := newPaceFile(dir, "https://api.example/", "a") // one per process
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = f.save(paceState{Rate: float64(100 + w), Ceiling: float64(110 + w), HoldMS: 1000, Saved: now.Unix()})
			}
		}(w)
	}
	r := newPaceFile(dir, "https://api.example/", "a")
	rates := map[float64]bool{}
	for i := 0; i < 2000; i++ {
		st, ok := r.load(now)
		if !ok || st.Ceiling-st.Rate != 10 {
			t.Errorf("read %d while writers ran: %+v, %v; want a whole state", i, st, ok)
			break
		}
		rates[st.Rate] = true
	}
	close(stop)
	wg.Wait()
	t.Logf("states read: %v", rates)
	if left, _ := filepath.Glob(filepath.Join(dir, ".pace-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestPaceFilePrunesOnlyOldFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-PaceTTL - time.Minute)
	mk := func(name string, mod time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldState, oldTemp, fresh, other := mk("aaaa.json", old), mk(".pace-123", old), mk("bbbb.json", now), mk("notes.txt", old)
	newPaceFile(dir, "https://api.example/", "a").prune(now)
	for p, want := range map[string]bool{oldState: false, oldTemp: false, fresh: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// A second client (the next provider process) of the same endpoint and
// access id starts at the pace the first one learned: paced before its
// first request, and meeting fewer 429s.
func TestPaceHandedOnToTheNextClient(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{RateLimit: 100}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	dir := t.TempDir()
	mod := func(cfg *Config) { cfg.PaceDir = dir; cfg.MaxRetries = 10 }
	first := newTestClient(t, srv.URL, mod)
	if first.Stats().Rate != 0 {
		t.Fatal("first client paced before learning anything")
	}
	fanOut(t, first, b, 250, 16)
	second := newTestClient(t, srv.URL, mod)
	if r := second.Stats().Rate; r <= 0 || r > 200 {
		t.Fatalf("second client starts at rate %v, want the learned pace (limit 100/s)", r)
	}
	time.Sleep(200 * time.Millisecond) // let the bucket refill as between two processes
	fanOut(t, second, b, 250, 16)
	n1, n2 := first.Stats().RateLimited, second.Stats().RateLimited
	t.Logf("429s: first %d, second %d", n1, n2)
	if n1 == 0 || n2 >= n1 || n2 > 3 {
		t.Fatalf("429s: first client %d, second %d; want the second to meet at most 3, fewer than the first", n1, n2)
	}
	// Another access id learns for itself.
	third := newTestClient(t, srv.URL, func(cfg *Config) { mod(cfg); cfg.AccessID = "another-access-id" })
	if third.Stats().Rate != 0 {
		t.Fatal("a client of another access id started from this one's pace")
	}
}

// RequestsPerSecond paces from the first request and is never exceeded.
func TestRequestsPerSecondCapsThePace(t *testing.T) {
	t.Parallel()
	emu, srv := newEmulator(t, emulator.Options{Faults: emulator.Faults{RateLimit: 1000}})
	b := emu.AddBatch(emu.AddProject("p"), "b")
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.RequestsPerSecond = 50 })
	if r := c.Stats().Rate; r != 50 {
		t.Fatalf("rate before any request = %v, want 50", r)
	}
	start := time.Now()
	fanOut(t, c, b, 40, 8)
	// 41 requests (a login and 40 reads) 20 ms apart: at least 0.8 s.
	if d := time.Since(start); d < 750*time.Millisecond {
		t.Fatalf("41 requests in %v at 50/s, want at least 0.8 s", d)
	}
	if r := c.Stats().Rate; r > 50 {
		t.Fatalf("rate grew to %v past the cap", r)
	}
}

// fanOut reads batch b n times from workers goroutines.
func fanOut(t *testing.T, c *Client, b string, n, workers int) {
	t.Helper()
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				if _, err := c.GetBatch(context.Background(), b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
