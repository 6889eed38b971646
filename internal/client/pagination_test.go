package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNextPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc      string
		cur      int64
		next     int64
		more     bool
		wantsErr bool
	}{
		{`{"hasNextPage":true,"nextPage":2}`, 1, 2, true, false},
		{`{"hasNextPage":false,"nextPage":2}`, 1, 0, false, false},
		{`{"hasNextPage":true}`, 3, 4, true, false},                  // nextPage missing
		{`{"hasNextPage":true,"nextPage":null}`, 3, 4, true, false},  // nextPage null
		{`{"nextPage":5}`, 4, 5, true, false},                        // hasNextPage missing
		{`{"nextPage":null,"totalPages":3}`, 2, 3, true, false},      // only totalPages
		{`{"totalPages":3}`, 3, 0, false, false},                     // last page
		{`{}`, 1, 0, false, false},                                   // nothing: stop
		{`{"hasNextPage":true,"nextPage":1}`, 1, 0, false, true},     // does not advance
		{`{"hasNextPage":true,"nextPage":0}`, 4, 0, false, true},     // goes back
		{`{"hasNextPage":"true","nextPage":"3"}`, 2, 3, true, false}, // strings tolerated
		{`{"hasNextPage":true,"nextPage":2.0}`, 1, 2, true, false},   // float
		{`{"hasNextPage":true,"nextPage":"x"}`, 1, 2, true, false},   // junk: next page
	} {
		var p pageDoc
		if err := json.Unmarshal([]byte(tc.doc), &p); err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		next, more, err := nextPage(tc.cur, &p)
		if (err != nil) != tc.wantsErr || next != tc.next || more != tc.more {
			t.Errorf("nextPage(%d, %s) = %d, %v, %v; want %d, %v, err %v", tc.cur, tc.doc, next, more, err, tc.next, tc.more, tc.wantsErr)
		}
	}
}

// pageServer serves B2 pages from fn(page, limit) after a login.
func pageServer(t *testing.T, fn func(page, limit int) string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "login") {
			w.WriteHeader(201)
			_, _ = w.Write([]byte(`{"access_token":"tok-abcdefgh","expires_in":3600}`))
			return
		}
		if calls.Add(1) > 1000 {
			w.WriteHeader(500) // a looping client would end here
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		_, _ = w.Write([]byte(fn(page, limit)))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func listAll(t *testing.T, srv *httptest.Server) ([]string, error) {
	t.Helper()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.MaxRetries = 0 })
	var ids []string
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.ListBatches(ctx, BatchFilter{ProjectID: "p"}, func(b Batch) error { ids = append(ids, b.ID); return nil })
	return ids, err
}

func TestWalkStopsOnNonAdvancingNextPage(t *testing.T) {
	t.Parallel()
	srv, calls := pageServer(t, func(page, limit int) string {
		return fmt.Sprintf(`{"docs":[{"_id":"b%d"}],"hasNextPage":true,"nextPage":%d,"page":%d}`, page, page, page)
	})
	_, err := listAll(t, srv)
	if err == nil || !strings.Contains(err.Error(), "does not advance") {
		t.Fatalf("err = %v, want a pagination error", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("pages fetched = %d, want 1", calls.Load())
	}
}

func TestWalkStopsOnRepeatedPage(t *testing.T) {
	t.Parallel()
	// nextPage advances, but the server ignores `page` and repeats itself.
	srv, calls := pageServer(t, func(page, limit int) string {
		return fmt.Sprintf(`{"docs":[{"_id":"a"},{"_id":"b"}],"hasNextPage":true,"nextPage":%d}`, page+1)
	})
	_, err := listAll(t, srv)
	if err == nil || !strings.Contains(err.Error(), "again") {
		t.Fatalf("err = %v, want a repeated-page error", err)
	}
	if calls.Load() != 2 {
		t.Fatalf("pages fetched = %d, want 2", calls.Load())
	}
}

func TestWalkStopsOnEndlessEmptyPages(t *testing.T) {
	t.Parallel()
	srv, calls := pageServer(t, func(page, limit int) string {
		return fmt.Sprintf(`{"docs":[],"hasNextPage":true,"nextPage":%d}`, page+1)
	})
	_, err := listAll(t, srv)
	if err == nil || !strings.Contains(err.Error(), "empty pages") {
		t.Fatalf("err = %v, want an empty-pages error", err)
	}
	if calls.Load() != maxEmptyPages {
		t.Fatalf("pages fetched = %d, want %d", calls.Load(), maxEmptyPages)
	}
}

func TestWalkWithMissingFields(t *testing.T) {
	t.Parallel()
	// Only docs and totalPages; server caps limit at 3 and says so.
	const total = 8
	srv, calls := pageServer(t, func(page, limit int) string {
		if page > 1 && limit != 3 {
			return `{"docs":[]}` // the client did not adopt the server's limit
		}
		var docs []string
		for i := (page-1)*3 + 1; i <= page*3 && i <= total; i++ {
			docs = append(docs, fmt.Sprintf(`{"_id":"b%d","workflow":null,"dataset":{"id":"d"}}`, i))
		}
		return fmt.Sprintf(`{"docs":[%s],"limit":3,"totalPages":3}`, strings.Join(docs, ","))
	})
	ids, err := listAll(t, srv)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != total || ids[0] != "b1" || ids[total-1] != "b8" {
		t.Fatalf("ids = %v", ids)
	}
	if calls.Load() != 3 {
		t.Fatalf("pages = %d, want 3", calls.Load())
	}
}

func TestWalkRejectsDocWithoutID(t *testing.T) {
	t.Parallel()
	srv, _ := pageServer(t, func(page, limit int) string { return `{"docs":[{"name":"x"}]}` })
	if _, err := listAll(t, srv); err == nil || !strings.Contains(err.Error(), "no _id") {
		t.Fatalf("err = %v", err)
	}
}

func TestWalkUnreadablePage(t *testing.T) {
	t.Parallel()
	srv, _ := pageServer(t, func(page, limit int) string { return `<html>` })
	if _, err := listAll(t, srv); err == nil || !strings.Contains(err.Error(), "unreadable page") {
		t.Fatalf("err = %v", err)
	}
}

func TestPageSizeConfig(t *testing.T) {
	t.Parallel()
	var asked atomic.Value
	srv, _ := pageServer(t, func(page, limit int) string {
		asked.Store(limit)
		return `{"docs":[]}`
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.PageSize = 10 })
	if err := c.ListBatches(context.Background(), BatchFilter{ProjectID: "p"}, func(Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if asked.Load() != 10 {
		t.Fatalf("limit asked %v, want 10", asked.Load())
	}
}

// FuzzPageDoc: whatever a page says, nextPage never returns a page that
// does not advance while reporting more, and decoding never panics.
func FuzzPageDoc(f *testing.F) {
	for _, s := range []string{
		`{"docs":[{"_id":"a"}],"totalDocs":1,"limit":100,"totalPages":1,"page":1,"pagingCounter":1,"hasPrevPage":false,"hasNextPage":false,"prevPage":null,"nextPage":null}`,
		`{"docs":[],"hasNextPage":true,"nextPage":1}`,
		`{"hasNextPage":true}`,
		`{"nextPage":-5}`,
		`{"docs":null,"limit":"7","totalPages":1e400}`,
		`{"docs":{}}`,
		`[]`,
		`null`,
	} {
		f.Add([]byte(s), int64(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, cur int64) {
		var p pageDoc
		if json.Unmarshal(data, &p) != nil {
			return
		}
		next, more, err := nextPage(cur, &p)
		if more && next <= cur {
			t.Fatalf("nextPage(%d) = %d with more", cur, next)
		}
		if err != nil && more {
			t.Fatal("error with more")
		}
	})
}

// Pages after the first are fetched ahead, concurrently, yet documents
// arrive in order.
func TestWalkReadsAheadInOrder(t *testing.T) {
	// Not parallel: it times the read-ahead (240 ms bound), too tight beside other tests.
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "login") {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"access_token":"tok-123456","expires_in":3600}`))
			return
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		fmt.Fprintf(w, `{"docs":[{"_id":"b%d"}],"limit":1,"page":%d,"totalPages":12,"hasNextPage":%v,"nextPage":%d}`, page, page, page < 12, page+1)
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL, AccessID: "a", SecretKey: "s-secret", MaxConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	start := time.Now()
	err = c.ListBatches(context.Background(), BatchFilter{ProjectID: "p"}, func(b Batch) error {
		got = append(got, b.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range got {
		if id != fmt.Sprintf("b%d", i+1) || len(got) != 12 {
			t.Fatalf("documents %v, want b1..b12 in order", got)
		}
	}
	if peak.Load() < 2 {
		t.Fatalf("pages fetched one at a time (peak %d in flight)", peak.Load())
	}
	if took := time.Since(start); took > 12*20*time.Millisecond {
		t.Fatalf("12 pages took %v: no read-ahead", took)
	}
}

// Absurd pagination values from a server: no huge allocation, no endless
// walk, no adopted page size outside [1, maxPageLimit].
func TestWalkAbsurdValues(t *testing.T) {
	t.Parallel()
	// two serves page 1 with first, and page 2 (only when asked with the
	// client's own limit, 100) as the last page.
	two := func(first string) func(page, limit int) string {
		return func(page, limit int) string {
			if page == 1 {
				return first
			}
			if page == 2 && limit == DefaultPageSize {
				return `{"docs":[{"_id":"b"}],"hasNextPage":false}`
			}
			return `{"docs":[]}`
		}
	}
	for _, tc := range []struct {
		name     string
		fn       func(page, limit int) string
		ids      string // joined with ","
		errPart  string
		maxCalls int32
	}{
		{"huge totalPages, last page", two(`{"docs":[{"_id":"a"}],"totalPages":1000000000000,"hasNextPage":false}`), "a", "", 1 + maxReadAhead},
		{"totalPages beyond int64", two(`{"docs":[{"_id":"a"}],"totalPages":1e400,"hasNextPage":false}`), "a", "", 1},
		{"negative totalPages", two(`{"docs":[{"_id":"a"}],"totalPages":-5,"hasNextPage":false}`), "a", "", 1},
		{"negative limit", two(`{"docs":[{"_id":"a"}],"limit":-5,"hasNextPage":true,"nextPage":2}`), "a,b", "", 2},
		{"zero limit", two(`{"docs":[{"_id":"a"}],"limit":0,"hasNextPage":true,"nextPage":2}`), "a,b", "", 2},
		{"huge limit", two(`{"docs":[{"_id":"a"}],"limit":1000000000000,"hasNextPage":true,"nextPage":2}`), "a,b", "", 2},
		{"limit beyond int64", two(`{"docs":[{"_id":"a"}],"limit":9223372036854775807000,"hasNextPage":true,"nextPage":2}`), "a,b", "", 2},
		{"limit a string", two(`{"docs":[{"_id":"a"}],"limit":"lots","hasNextPage":true,"nextPage":2}`), "a,b", "", 2},
		{"absurd page", two(`{"docs":[{"_id":"a"}],"page":-9223372036854775808,"hasNextPage":true,"nextPage":2}`), "a,b", "", 2},
		{"nextPage beyond float64", two(`{"docs":[{"_id":"a"}],"hasNextPage":true,"nextPage":1e400}`), "a,b", "", 2},
		{"huge nextPage", two(`{"docs":[{"_id":"a"}],"hasNextPage":true,"nextPage":1000000000000}`), "a", "beyond page", 1},
		{"negative nextPage", two(`{"docs":[{"_id":"a"}],"hasNextPage":true,"nextPage":-3}`), "a", "does not advance", 1},
		{"huge totalPages, empty pages", func(page, limit int) string {
			return fmt.Sprintf(`{"docs":[],"page":%d,"totalPages":1000000000000}`, page)
		}, "", "empty pages", 1 + maxReadAhead + maxEmptyPages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := pageServer(t, tc.fn)
			ids, err := listAll(t, srv)
			if tc.errPart == "" && err != nil || tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)) {
				t.Fatalf("err = %v, want %q", err, tc.errPart)
			}
			if got := strings.Join(ids, ","); got != tc.ids {
				t.Fatalf("ids %q, want %q", got, tc.ids)
			}
			if calls.Load() > tc.maxCalls {
				t.Fatalf("%d page requests, want at most %d", calls.Load(), tc.maxCalls)
			}
		})
	}
}
