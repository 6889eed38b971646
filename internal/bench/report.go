package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Phases, in the order a scenario runs them.
const (
	phaseCreate  = "create"  // terraform apply on an empty state
	phaseRefresh = "refresh" // terraform plan -detailed-exitcode, no change
	phaseUpdate  = "update"  // terraform apply after 10% new batches
	phaseDestroy = "destroy" // terraform destroy
)

var phases = []string{phaseCreate, phaseRefresh, phaseUpdate, phaseDestroy}

// Baseline status of a phase.
const (
	baselineMeasured  = "measured"
	baselineEstimated = "estimated" // scaled linearly from the largest measured N
	baselineSkipped   = "skipped"   // nothing to scale from
)

// Phase is one timed Terraform command of a scenario.
type Phase struct {
	Name      string         `json:"phase"`
	Wall      Seconds        `json:"wall_s"`
	Calls     int            `json:"calls"`       // API requests the emulator received
	Throttled int            `json:"throttled"`   // of which answered 429
	MinCalls  int            `json:"min_calls"`   // theoretical minimum, see minCalls
	Endpoints map[string]int `json:"endpoints"`   // Calls() per endpoint id
	APIStart  Seconds        `json:"api_start_s"` // phase start to the first API request
	APISpan   Seconds        `json:"api_span_s"`  // first to last API request
	InFlight  int            `json:"max_in_flight"`
	PeakRSSKB int64          `json:"peak_rss_kib"` // max over the provider processes of the phase
	// The terraform process's own peak (or a reaped child's, whichever is larger).
	TerraformRSSKB int64 `json:"terraform_peak_rss_kib"`
	// Answers per second from the phase's first API request: accepted, 429.
	PerSecondOK  []int `json:"per_second_ok,omitempty"`
	PerSecond429 []int `json:"per_second_429,omitempty"`

	Baseline       Seconds `json:"baseline_wall_s"`
	BaselineCalls  int     `json:"baseline_calls"`
	BaselineStatus string  `json:"baseline_status"`
}

// Run is one (N, mode) scenario.
type Run struct {
	N                  int     `json:"n"`
	Mode               string  `json:"mode"`
	StateBytes         int64   `json:"state_bytes"` // terraform.tfstate after create
	StateBytesPerBatch float64 `json:"state_bytes_per_batch"`
	Phases             []Phase `json:"phases"`
}

// Report is everything one invocation measured.
type Report struct {
	Command     string    `json:"command"`
	Revision    string    `json:"revision"` // the tree the provider was built from
	Started     time.Time `json:"started"`
	Terraform   string    `json:"terraform_version"`
	GoVersion   string    `json:"go_version"`
	CPUs        int       `json:"cpus"`
	Latency     Seconds   `json:"latency_s"`
	Rate        float64   `json:"rate_limit_per_s"`
	Concurrency int       `json:"max_concurrency"`
	BaselineMax int       `json:"baseline_max_n"`
	Runs        []Run     `json:"runs"`
	Verdicts    []Verdict `json:"verdicts"`
}

// Seconds is a duration written as seconds in JSON.
type Seconds time.Duration

func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(math.Round(time.Duration(s).Seconds()*1000) / 1000)
}

func (s Seconds) String() string {
	if s == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f s", time.Duration(s).Seconds())
}

// floor is the least time the server allows for the phase's successful
// requests: it accepts at most rate requests per second. 429 answers are
// left out: the server refuses them without spending its budget.
func floor(calls, throttled int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(calls-throttled) / rate * float64(time.Second))
}

// ratio is wall / floor; 0 when there is no floor (no rate limit).
func ratio(wall, floor time.Duration) float64 {
	if floor <= 0 {
		return 0
	}
	return float64(wall) / float64(floor)
}

// speedup is how many times faster the provider was than the baseline.
func speedup(provider, baseline time.Duration) float64 {
	if provider <= 0 || baseline <= 0 {
		return 0
	}
	return float64(baseline) / float64(provider)
}

// minCalls is the fewest requests a phase needs for n batches at its start
// (one workflow per batch, as seeded): login, the project check, list pages
// of 100, a batch read per batch when list documents lack the workflow, then
//   - create:  set each workflow (the emulator's answer carries the webhook
//     set, so no read back is needed);
//   - refresh: read each workflow;
//   - update:  the refresh of the grown project, then set each new workflow;
//   - destroy: the refresh, then clear each workflow.
//
// update and destroy get n already grown by 10%; added is the new batches.
func minCalls(phase string, n, added int, listHasWorkflow bool) int {
	base := 2 + (n+99)/100
	if !listHasWorkflow {
		base += n
	}
	switch phase {
	case phaseCreate:
		return base + n
	case phaseRefresh:
		return base + n
	case phaseUpdate:
		return base + n + added
	case phaseDestroy:
		return base + 2*n
	}
	return 0
}

// Targets of issue 4, at N = 10,000, L = 20 ms, R = 500/s.
const (
	targetN          = 10000
	targetFloorRatio = 1.3
	targetSpeedup    = 20
	targetRSSMB      = 150
	targetStateBytes = 100
)

// Verdict is one target checked on one run.
type Verdict struct {
	Target string `json:"target"`
	N      int    `json:"n"`
	Mode   string `json:"mode"`
	Value  string `json:"value"`
	// Result is PASS, MISS or n/a (no data, e.g. no rate limit).
	Result string `json:"result"`
}

// verdicts checks the targets on the runs at N = 10,000, or at the largest
// N when the run did not reach it (the verdict then only hints).
func verdicts(runs []Run, rate float64) []Verdict {
	at := 0
	for _, r := range runs {
		if r.N == targetN {
			at = targetN
			break
		}
		at = max(at, r.N)
	}
	var out []Verdict
	for _, r := range runs {
		if r.N != at {
			continue
		}
		add := func(target, value string, ok, known bool) {
			res := "n/a"
			if known {
				res = map[bool]string{true: "PASS", false: "MISS"}[ok]
			}
			out = append(out, Verdict{Target: target, N: r.N, Mode: r.Mode, Value: value, Result: res})
		}
		var peak int64
		for _, p := range r.Phases {
			peak = max(peak, p.PeakRSSKB)
			if p.Name != phaseCreate && p.Name != phaseRefresh {
				continue
			}
			wall := time.Duration(p.Wall)
			fl := floor(p.Calls, p.Throttled, rate)
			q := ratio(wall, fl)
			add(fmt.Sprintf("%s within %.1fx of floor", p.Name, targetFloorRatio), fmt.Sprintf("%.2fx", q), q <= targetFloorRatio, q > 0)
			s := speedup(wall, time.Duration(p.Baseline))
			v := fmt.Sprintf("%.1fx", s)
			if p.BaselineStatus == baselineEstimated {
				v += " (baseline estimated)"
			}
			add(fmt.Sprintf("%s >= %dx faster than baseline", p.Name, targetSpeedup), v, s >= targetSpeedup, s > 0)
		}
		mb := float64(peak) / 1024
		add(fmt.Sprintf("peak RSS < %d MB", targetRSSMB), fmt.Sprintf("%.1f MB", mb), mb < targetRSSMB, peak > 0)
		add(fmt.Sprintf("state < %d bytes/batch", targetStateBytes), fmt.Sprintf("%.1f B", r.StateBytesPerBatch), r.StateBytesPerBatch < targetStateBytes, r.StateBytes > 0)
	}
	return out
}

// writeTable writes the results as a Markdown table (readable as text too).
func writeTable(w io.Writer, rep *Report) {
	fmt.Fprintln(w, "| N | mode | phase | wall | calls | 429s | min calls | floor | wall/floor | API span | baseline | speed-up | peak RSS | terraform RSS | state/batch |")
	fmt.Fprintln(w, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Runs {
		for _, p := range r.Phases {
			wall := time.Duration(p.Wall)
			fl := floor(p.Calls, p.Throttled, rep.Rate)
			base, speed := "skipped", "-"
			switch p.BaselineStatus {
			case baselineMeasured:
				base = p.Baseline.String()
			case baselineEstimated:
				base = "skipped, est. ~" + p.Baseline.String()
			}
			if s := speedup(wall, time.Duration(p.Baseline)); s > 0 {
				speed = fmt.Sprintf("%.1fx", s)
			}
			state := ""
			if p.Name == phaseCreate {
				state = fmt.Sprintf("%.1f B", r.StateBytesPerBatch)
			}
			q := "-"
			if x := ratio(wall, fl); x > 0 {
				q = fmt.Sprintf("%.2fx", x)
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %d | %d | %d | %s | %s | %s | %s | %s | %.1f MB | %.0f MB | %s |\n",
				r.N, r.Mode, p.Name, p.Wall, p.Calls, p.Throttled, p.MinCalls, Seconds(fl), q,
				p.APISpan, base, speed, float64(p.PeakRSSKB)/1024, float64(p.TerraformRSSKB)/1024, state)
		}
	}
}

func writeVerdicts(w io.Writer, vs []Verdict) {
	if len(vs) == 0 {
		return
	}
	fmt.Fprintln(w, "| target | N | mode | value | result |")
	fmt.Fprintln(w, "|---|---:|---|---:|---|")
	for _, v := range vs {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", v.Target, v.N, v.Mode, v.Value, v.Result)
	}
}

// notes explains the columns; printed under the table and in results.md.
func notes(rep *Report) string {
	limit := fmt.Sprintf("Above -baseline-max-n=%d it is not run", rep.BaselineMax)
	if rep.BaselineMax == 0 {
		limit = "This run left it out (-baseline=false)"
	}
	return fmt.Sprintf(`- Emulator on loopback: %s added to every API request, rate limit %g requests/s (token bucket, burst %g; a 429 carries Retry-After).
  Provider max_concurrency = %d. Terraform %s, %s, %d CPUs (emulator, Terraform and provider share them).
- calls: API requests the emulator received during the phase; 429s: of which refused by the rate limit.
- floor = (calls - 429s) / R: the server accepts at most R requests per second, so the successful
  requests the phase made cannot take less (a refused request does not spend the server's budget).
  wall/floor is how close the phase came to the server's own limit.
- min calls: the fewest requests the phase needs (login + project check + list pages of 100
  [+ one batch read per batch when list documents lack the workflow] + create: set each workflow (the
  emulator's setup answer carries the webhook, so no read back); refresh: read each; update: refresh + set
  the new ones; destroy: refresh + clear each).
- API span: first to last API request of the phase; wall - span is time spent outside the API: process
  starts, and Terraform and the provider handling the state and plan (results.json has the per-second
  accepted and 429 answers, and api_start_s, the time before the first request).
- baseline: the Python SDK's algorithm with this project's client on a fresh emulator with the same L and R:
  sequential, pages of 10 with 0.5 s between pages, then per batch: create/update setup-webhook by batch
  (the SDK re-sets every batch, it keeps no state), refresh get_webhook (batch read + workflow read),
  destroy setup-webhook with url null. It never reads the workflow from list documents, so it is the same
  for both modes and runs once per N. %s; "est." values scale the
  largest measured N linearly (its cost is pages x (L + 0.5 s) + calls x L, linear in N).
- speed-up = baseline wall / provider wall. peak RSS: the largest provider process of the phase;
  terraform RSS: the terraform CLI process of the phase (its largest reaped child counts too).
- state/batch: terraform.tfstate bytes after create / N.
`, time.Duration(rep.Latency), rep.Rate, max(1, rep.Rate/10), rep.Concurrency, rep.Terraform, rep.GoVersion, rep.CPUs, limit)
}

// writeFiles writes results.json and results.md into dir.
func writeFiles(dir string, rep *Report) error {
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Measured %s on %s with:\n\n```sh\n%s\n```\n\n", rep.Started.UTC().Format("2006-01-02 15:04 UTC"), rep.Revision, rep.Command)
	writeTable(&md, rep)
	md.WriteString("\n" + notes(rep) + "\n")
	if len(rep.Verdicts) > 0 {
		fmt.Fprintf(&md, "Targets (issue 4, set for N = %d, L = 20 ms, R = 500/s):\n\n", targetN)
		writeVerdicts(&md, rep.Verdicts)
	}
	md.WriteString("\n![Wall time against N](performance.svg)\n")
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644)
}
