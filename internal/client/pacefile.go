package client

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// A pace learned from 429 answers is kept in a small file, so that the next
// provider process does not learn it again: Terraform starts several per
// command (plan, apply) and a pipeline runs commands minutes apart, and each
// re-learning costs 429s and a second of Retry-After per worker refused.
//
// The file is named by a hash of the endpoint and access id (the limit is
// theirs) and holds three numbers and a time: no secret, no id. It is
// trusted for PaceTTL only; a stale, absent, unreadable or foreign file just
// means starting as if new. Several processes may write it at once: each
// write replaces the whole file (temporary file, then rename), so a reader
// sees one writer's state or the previous one, and the pacer corrects any
// state it starts from with the next 429 or the next probe.
// PaceTTL is how long a saved pace is trusted.
const PaceTTL = 30 * time.Minute

const (
	paceVersion = 1
	// paceSaveEvery bounds how often a busy process rewrites the file; a
	// decrease is saved sooner (paceSaveAfterDecrease), so a short process
	// still hands on what it learned.
	paceSaveEvery         = time.Second
	paceSaveAfterDecrease = 100 * time.Millisecond
	// paceMaxRate rejects absurd rates in a damaged file.
	paceMaxRate = 1e6
)

// paceState is what a pacer hands on to the next process.
type paceState struct {
	Version int     `json:"v"`
	Rate    float64 `json:"rate"`    // requests per second in use
	Ceiling float64 `json:"ceiling"` // the rate that drew the last 429
	// Measured: the ceiling was measured (or configured), not taken from
	// a first burst, which overstates the limit.
	Measured bool `json:"measured"`
	// Peak: the highest rate accepted over a full window. It only tells a
	// ceiling far below it (a shared limit, or refusals that were not the
	// limit's), where the pace probes at once; never a floor.
	Peak   float64 `json:"peak"`
	HoldMS int64   `json:"hold_ms"` // time held at the target before probing
	Saved  int64   `json:"saved"`   // unix seconds
}

// valid reports whether st can seed a pacer at now.
func (st paceState) valid(now time.Time) bool {
	age := now.Sub(time.Unix(st.Saved, 0))
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	return st.Version == paceVersion && age >= -time.Minute && age <= PaceTTL &&
		finite(st.Rate) && finite(st.Ceiling) && st.Rate >= pacerMinRate && st.Rate <= paceMaxRate &&
		st.Ceiling >= 0 && st.Ceiling <= paceMaxRate && finite(st.Peak) && st.Peak >= 0 && st.Peak <= paceMaxRate
}

// paceFile is the file of one endpoint and access id; nil when pace is not
// kept (no directory configured).
type paceFile struct {
	dir, path string
	mu        sync.Mutex // one write at a time per process; others skip
}

func newPaceFile(dir, endpoint, accessID string) *paceFile {
	if dir == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(endpoint + "\x00" + accessID))
	return &paceFile{dir: dir, path: filepath.Join(dir, hex.EncodeToString(sum[:16])+".json")}
}

// load returns the state saved within PaceTTL, if any.
func (f *paceFile) load(now time.Time) (paceState, bool) {
	if f == nil {
		return paceState{}, false
	}
	b, err := os.ReadFile(f.path)
	if err != nil || len(b) > 4096 {
		return paceState{}, false
	}
	var st paceState
	if json.Unmarshal(b, &st) != nil || !st.valid(now) {
		return paceState{}, false
	}
	return st, true
}

// save replaces the file with st. A write already under way in this process
// wins: the next save carries the newer state.
func (f *paceFile) save(st paceState) error {
	if f == nil || !f.mu.TryLock() {
		return nil
	}
	defer f.mu.Unlock()
	st.Version = paceVersion
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.dir, ".pace-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}

// prune removes the files of other endpoints, and temporary files left by a
// killed process, once they are older than PaceTTL: they can no longer seed
// a pacer.
func (f *paceFile) prune(now time.Time) {
	if f == nil {
		return
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || (!strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".pace-")) {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > PaceTTL {
			_ = os.Remove(filepath.Join(f.dir, name))
		}
	}
}
