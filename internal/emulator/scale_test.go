package emulator_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// At the benchmark's scale the emulator must stay small and every page cheap.
func TestScale20kBatches(t *testing.T) {
	// Not parallel: it measures the process heap, which other tests would grow.
	before := heapInUse()
	a := newAPI(t, emulator.Options{})
	if err := a.e.ApplySeed(emulator.GenerateSeed(1, 20_000)); err != nil {
		t.Fatal(err)
	}
	if grown := heapInUse() - before; grown > 20<<20 {
		t.Fatalf("20,000 batches take %d MB of heap", grown>>20)
	}
	p := a.e.Projects()[0].ID
	a.login()

	start := time.Now()
	var walked []string
	for next := 1; ; {
		var pg page
		a.get(fmt.Sprintf("api/task-manager/batches?pagination=true&page=%d&limit=1000&projectId=%s", next, p), &pg)
		walked = append(walked, ids(pg.Docs)...)
		if !pg.HasNextPage {
			break
		}
		next = *pg.NextPage
	}
	if len(walked) != 20_000 || !slices.Equal(walked, a.e.ProjectBatches(p)) {
		t.Fatalf("walked %d batches", len(walked))
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("walking 200 pages took %s", el)
	}

	// A burst of concurrent setups, one per batch of the first 2,000, all land.
	var failed atomic.Int32
	var wg sync.WaitGroup
	work := make(chan string)
	for range 16 {
		wg.Go(func() {
			for id := range work {
				req, _ := http.NewRequest(http.MethodPatch, a.base()+"api/workflow-manager/workflows/setup-webhook?batchId="+id,
					strings.NewReader(`{"url":"https://r.example/","header":null}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+a.token)
				resp, err := a.hc.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if err == nil {
					_ = resp.Body.Close()
				}
			}
		})
	}
	for _, id := range walked[:2000] {
		work <- id
	}
	close(work)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d setups failed", failed.Load())
	}
	b, _ := a.e.Batch(walked[1999])
	if _, ok := a.e.Webhook(b.WorkflowID); !ok {
		t.Fatal("setup not stored")
	}
	if got := a.e.Calls()["W3"]; got != 2000 {
		t.Fatalf("W3 count %d", got)
	}
}

func benchEmulator(b *testing.B) (*emulator.Emulator, string, string) {
	e := emulator.New(emulator.Options{})
	if err := e.ApplySeed(emulator.GenerateSeed(1, 20_000)); err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/user-manager/auth/login", strings.NewReader("access_id=demo-access-id&secret_key=demo-secret-key"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	e.ServeHTTP(rec, req)
	tok := rec.Body.String()
	tok = tok[strings.Index(tok, `"access_token":"`)+16:]
	tok = tok[:strings.IndexByte(tok, '"')]
	return e, e.Projects()[0].ID, tok
}

// BenchmarkListPage shows a page costs O(limit): the last page of 20,000 costs as much as the first.
func BenchmarkListPage(b *testing.B) {
	e, p, tok := benchEmulator(b)
	for _, pg := range []int{1, 200} {
		b.Run(fmt.Sprintf("page%d", pg), func(b *testing.B) {
			target := fmt.Sprintf("/api/task-manager/batches?pagination=true&page=%d&limit=100&projectId=%s", pg, p)
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, target, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

func BenchmarkSetupWebhook(b *testing.B) {
	e, p, tok := benchEmulator(b)
	batches := e.ProjectBatches(p)
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPatch, "/api/workflow-manager/workflows/setup-webhook?batchId="+batches[i%len(batches)],
			strings.NewReader(`{"url":"https://r.example/","header":"h"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
		i++
	}
}
