package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Phases of a scenario. The four of the resource's life run in this order;
// the probes run after update (when it runs), before destroy, each in a
// workspace of its own, and only read.
const (
	phaseCreate  = "create"  // terraform apply on an empty state
	phaseRefresh = "refresh" // terraform plan -detailed-exitcode, no change
	phaseUpdate  = "update"  // terraform apply after 10% new batches
	phaseDestroy = "destroy" // terraform destroy

	phaseBatches = "batches" // terraform plan reading data.isahitlab_batches: one object per batch
	phaseQuery   = "query"   // terraform query on the isahitlab_webhook list resource (Terraform >= 1.14)
)

// phases are the resource's; probes read what they leave.
var (
	phases    = []string{phaseCreate, phaseRefresh, phaseUpdate, phaseDestroy}
	probes    = []string{phaseBatches, phaseQuery, phaseHealth}
	allPhases = append(append([]string(nil), phases...), probes...)
)

// phaseRank orders a table's rows: the resource's phases, then the probes.
func phaseRank(name string) int {
	for i, p := range allPhases {
		if p == name {
			return i
		}
	}
	return len(allPhases)
}

// Baseline status of a phase.
const (
	baselineMeasured  = "measured"
	baselineEstimated = "estimated" // scaled linearly from the largest measured N
	baselineSkipped   = "skipped"   // nothing to scale from
)

// Phase is one timed Terraform command of a scenario.
type Phase struct {
	Name      string         `json:"phase"`
	Batches   int            `json:"batches"` // in the project during the phase
	Wall      Seconds        `json:"wall_s"`
	Calls     int            `json:"calls"`       // API requests the emulator received
	Throttled int            `json:"throttled"`   // of which answered 429
	MinCalls  int            `json:"min_calls"`   // the fewest the contract allows, see minCalls
	Endpoints map[string]int `json:"endpoints"`   // Calls() per endpoint id
	APIStart  Seconds        `json:"api_start_s"` // phase start to the first API request
	APISpan   Seconds        `json:"api_span_s"`  // first to last API request
	// ProcessSpan sums the API span of each provider process of the phase,
	// without the time between them (spanRecorder); files from before it
	// take APISpan (see UnmarshalJSON).
	ProcessSpan Seconds `json:"process_span_s"`
	InFlight    int     `json:"max_in_flight"`
	PeakRSSKB   int64   `json:"peak_rss_kib"` // max over the provider processes of the phase
	// The terraform process's own peak (or a reaped child's, whichever is larger).
	TerraformRSSKB int64 `json:"terraform_peak_rss_kib"`
	// CPU time, user + system. ProviderCPU sums every provider process of
	// the phase (ProviderProcs of them). TerraformTotalCPU is the terraform
	// process's rusage as wait4 reports it, which counts the children it
	// reaped (the provider processes, through rsswrap); TerraformCPU is
	// Terraform's own: the total minus those children.
	ProviderCPU       Seconds `json:"provider_cpu_s"`
	ProviderProcs     int     `json:"provider_processes"`
	TerraformTotalCPU Seconds `json:"terraform_total_cpu_s"`
	TerraformCPU      Seconds `json:"terraform_cpu_s"`
	// BenchCPU is the bench process's (the emulator's); OthersCPU the rest
	// of the machine's busy time over the phase: work by others sharing it.
	BenchCPU  Seconds `json:"bench_cpu_s"`
	OthersCPU Seconds `json:"others_cpu_s"`
	Metered   bool    `json:"machine_metered"` // OthersCPU was measured
	// Answers per second from the phase's first API request: accepted, 429.
	PerSecondOK  []int `json:"per_second_ok,omitempty"`
	PerSecond429 []int `json:"per_second_429,omitempty"`
	// Results is what a probe read: objects in the data source, results of
	// the query.
	Results int    `json:"results,omitempty"`
	Note    string `json:"note,omitempty"`

	Baseline       Seconds `json:"baseline_wall_s"`
	BaselineCalls  int     `json:"baseline_calls"`
	BaselineStatus string  `json:"baseline_status"`
}

// UnmarshalJSON reads a phase; one from before process_span_s takes its
// API span, the only span it had (the gaps between processes unknown).
func (p *Phase) UnmarshalJSON(b []byte) error {
	type plain Phase
	var aux struct {
		plain
		ProcessSpan *Seconds `json:"process_span_s"` // shallower than plain's: wins
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*p = Phase(aux.plain)
	p.ProcessSpan = p.APISpan
	if aux.ProcessSpan != nil {
		p.ProcessSpan = *aux.ProcessSpan
	}
	return nil
}

// perThousand is a CPU time per 1,000 batches of the phase (0 without batches).
func (p Phase) perThousand(cpu Seconds) float64 {
	if p.Batches <= 0 {
		return 0
	}
	return time.Duration(cpu).Seconds() * 1000 / float64(p.Batches)
}

// OthersCores is how many CPUs other work kept busy on average during the
// phase (0 when unmeasured).
func (p Phase) OthersCores() float64 {
	if p.Wall <= 0 {
		return 0
	}
	return float64(p.OthersCPU) / float64(p.Wall)
}

// ProviderPer1k and TerraformPer1k are CPU seconds per 1,000 batches
// (numerically, milliseconds per batch).
func (p Phase) ProviderPer1k() float64  { return p.perThousand(p.ProviderCPU) }
func (p Phase) TerraformPer1k() float64 { return p.perThousand(p.TerraformCPU) }

// Run is one (N, mode) scenario.
type Run struct {
	N    int    `json:"n"`
	Mode string `json:"mode"`
	// The settings the run was measured with, per run so that -merge of
	// invocations with other settings keeps each run's floor. Files from
	// before these fields take the report's (see Report.UnmarshalJSON);
	// never omitted, or a merged run would take the merged report's.
	Rate               float64 `json:"rate_limit_per_s"`
	Pace               string  `json:"pace"`                // warm or cold (-pace); "" before ISAHIT_LAB_PACE_DIR
	RequestsPerSecond  float64 `json:"requests_per_second"` // the provider argument; 0: unset
	StateBytes         int64   `json:"state_bytes"`         // terraform.tfstate after create, private state included
	StateBytesPerBatch float64 `json:"state_bytes_per_batch"`
	Phases             []Phase `json:"phases"`
}

// setup labels the run's settings in the tables: the rate limit, the pace
// mode and requests_per_second when set.
func (r Run) setup() string {
	s := "no limit"
	if r.Rate > 0 {
		s = fmt.Sprintf("%g/s", r.Rate)
	}
	if r.Pace != "" {
		s += " " + r.Pace
	}
	if r.RequestsPerSecond > 0 {
		s += fmt.Sprintf(", rps %g", r.RequestsPerSecond)
	}
	return s
}

// floor is the phase's floor at the run's rate limit.
func (r Run) floor(p Phase) time.Duration { return floor(p.MinCalls, r.Rate) }

// spanRatio is the phase's API span over its floor: the part of the wall
// time the provider controls (0 without a floor).
func (r Run) spanRatio(p Phase) float64 { return ratio(time.Duration(p.APISpan), r.floor(p)) }

// processRatio is the phase's process span over its floor: the provider's
// own API work, without the time Terraform takes between its processes (0
// without a floor).
func (r Run) processRatio(p Phase) float64 { return ratio(time.Duration(p.ProcessSpan), r.floor(p)) }

// outside is the phase's wall time outside the API: Terraform's own work
// and process starts.
func (p Phase) outside() time.Duration { return time.Duration(p.Wall - p.APISpan) }

// between is the part of the API span between provider processes, when
// Terraform plans and starts the next one and no provider calls the API.
func (p Phase) between() time.Duration { return time.Duration(p.APISpan - p.ProcessSpan) }

// phase returns the run's phase of that name.
func (r Run) phase(name string) (Phase, bool) {
	for _, p := range r.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

// Report is everything one invocation measured.
type Report struct {
	Command   string    `json:"command"`
	Revision  string    `json:"revision"` // the tree the provider was built from
	Started   time.Time `json:"started"`
	Terraform string    `json:"terraform_version"`
	QueryCLI  string    `json:"query_terraform_version,omitempty"` // the CLI of the query probe
	GoVersion string    `json:"go_version"`
	CPUs      int       `json:"cpus"`
	Latency   Seconds   `json:"latency_s"`
	Rate      float64   `json:"rate_limit_per_s"` // -rate of the invocation; each run has its own
	Pace      string    `json:"pace,omitempty"`   // -pace
	// RequestsPerSecond is -requests-per-second, the provider argument; 0: unset.
	RequestsPerSecond float64   `json:"requests_per_second,omitempty"`
	Concurrency       int       `json:"max_concurrency"` // 0: the provider's default
	BaselineMax       int       `json:"baseline_max_n"`
	Phases            []string  `json:"phases"` // the phases asked for
	Runs              []Run     `json:"runs"`
	Verdicts          []Verdict `json:"verdicts"`
}

// UnmarshalJSON reads a results.json; a run without its own settings (a
// file from before they were per run) takes the report's.
func (rep *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	var aux struct {
		plain
		// Shallower than plain's Runs: these win.
		Runs []struct {
			Run
			Rate *float64 `json:"rate_limit_per_s"`
			Pace *string  `json:"pace"`
			RPS  *float64 `json:"requests_per_second"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*rep = Report(aux.plain)
	rep.Runs = nil
	for _, x := range aux.Runs {
		r := x.Run
		r.Rate, r.Pace, r.RequestsPerSecond = rep.Rate, rep.Pace, rep.RequestsPerSecond
		if x.Rate != nil {
			r.Rate = *x.Rate
		}
		if x.Pace != nil {
			r.Pace = *x.Pace
		}
		if x.RPS != nil {
			r.RequestsPerSecond = *x.RPS
		}
		rep.Runs = append(rep.Runs, r)
	}
	return nil
}

// Seconds is a duration written as seconds in JSON.
type Seconds time.Duration

func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(math.Round(time.Duration(s).Seconds()*1000) / 1000)
}

func (s *Seconds) UnmarshalJSON(b []byte) error {
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Seconds(math.Round(v * float64(time.Second)))
	return nil
}

func (s Seconds) String() string {
	if s == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f s", time.Duration(s).Seconds())
}

// floor is the least time the server allows for a phase that makes the
// fewest calls the contract allows (minCalls): it accepts at most rate
// requests per second. 0 without a rate limit.
func floor(minCalls int, rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(minCalls) / rate * float64(time.Second))
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
// (one workflow per batch, as seeded), as TestCLI_workPerPhaseIsLinear in
// internal/provider pins them. Every provider process that calls the API
// lists the project: a login (A1), the project check (P1), list pages of
// 100 (B2) and, when list documents lack the workflow, a batch read per
// batch (B1). Then
//   - create:  set each workflow (W2; the setup answer carries the webhook
//     set, so no read back);
//   - refresh: read each workflow (W1);
//   - update:  the plan's refresh (list, W1 each), then the apply logs in
//     and sets each new workflow (W2 for the added ones only): the refresh
//     of the same run has read everything, so the apply needs no walk;
//   - destroy: the refresh (list, W1 each), then the delete logs in and,
//     for each workflow the refresh found holding our url, reads it again
//     and clears it (W1, W2): no second walk, but a read just before each
//     clear, since the refresh may be long past (an approval prompt), and a
//     url set since by someone else must survive;
//   - batches: the data source lists (no project check), B1 per batch
//     without workflow;
//   - query:   the list resource lists and reads each workflow (W1).
//
// update and destroy get n already grown by 10%; added is the new batches.
func minCalls(phase string, n, added int, listHasWorkflow bool) int {
	if phase == phaseHealth {
		return healthMinCalls(n, listHasWorkflow)
	}
	list := 2 + (n+99)/100 // A1, P1, B2 pages
	if !listHasWorkflow {
		list += n // B1 each
	}
	switch phase {
	case phaseCreate, phaseRefresh, phaseQuery:
		return list + n
	case phaseUpdate:
		return list + n + 1 + added
	case phaseDestroy:
		return list + n + 1 + 2*n
	case phaseBatches:
		return list - 1
	}
	return 0
}

// Targets of issues 11 and 16, at L = 20 ms, R = 500/s.
var floorTargets = map[int]float64{10000: 1.15, 100000: 1.15} // wall / floor, per phase

const (
	targetRSSN       = 100000
	targetRSSMB      = 250 // provider peak at N = 100,000
	targetStateBytes = 40  // per batch
	targetGrowth     = 1.3 // CPU per 1,000 batches at N = 100,000 over N = 10,000
)

// Targets of issue 22 for small projects, at any rate: per phase, the
// process span within a margin of the floor and hardly any 429. Not the
// wall time (Terraform's fixed cost is outside the provider's reach), nor
// the API span: the time between a phase's provider processes is
// Terraform's too, a fixed cost that weighs most against small floors.
const (
	smallMaxN      = 1000
	smallSpanBar   = 1.15
	smallMax429    = 1
	smallSpanLabel = "process span within %.2fx of floor"
)

// smallPhases are the phases the small-project targets judge; the batches
// probe is a single list walk, too short to judge at these sizes.
var smallPhases = []string{phaseCreate, phaseRefresh, phaseUpdate, phaseDestroy, phaseHealth, phaseQuery}

// Verdict is one target checked on one run.
type Verdict struct {
	Target string `json:"target"`
	N      int    `json:"n"`
	Setup  string `json:"setup,omitempty"` // Run.setup
	Mode   string `json:"mode"`
	Value  string `json:"value"`
	// Result is PASS, MISS or n/a (no data, e.g. no rate limit).
	Result string `json:"result"`
	Hint   bool   `json:"hint,omitempty"` // judged at another N than the target's
}

// verdicts checks the targets, each run at its own rate. The small-project
// targets are judged at every N <= 1,000. The floor targets are judged at
// N = 10,000 and 100,000; when a run reached neither, at its largest N
// against the 10,000 bar (a hint; the wall/floor hint is left out at N <=
// 1,000, where the small-project targets judge the phases). Peak RSS is
// judged at 100,000 (else the largest N, a hint), state size at every
// judged N, CPU growth between 100,000 and 10,000 (else the largest N and a
// tenth of it, when both ran).
func verdicts(runs []Run) []Verdict {
	largest, judgedAtTarget := 0, false
	for _, r := range runs {
		largest = max(largest, r.N)
		if _, ok := floorTargets[r.N]; ok {
			judgedAtTarget = true
		}
	}
	var out []Verdict
	add := func(r Run, target, value string, ok, known, hint bool) {
		res := "n/a"
		if known {
			res = map[bool]string{true: "PASS", false: "MISS"}[ok]
		}
		out = append(out, Verdict{Target: target, N: r.N, Setup: r.setup(), Mode: r.Mode, Value: value, Result: res, Hint: hint})
	}
	rssAt := largest
	for _, r := range runs {
		if r.N == targetRSSN {
			rssAt = targetRSSN
		}
	}
	for _, r := range runs {
		if r.N <= smallMaxN {
			rows := append([]Phase(nil), r.Phases...)
			sort.SliceStable(rows, func(i, j int) bool { return phaseRank(rows[i].Name) < phaseRank(rows[j].Name) })
			for _, p := range rows {
				if !slices.Contains(smallPhases, p.Name) {
					continue
				}
				q := r.processRatio(p)
				add(r, p.Name+" "+fmt.Sprintf(smallSpanLabel, smallSpanBar), fmt.Sprintf("%.2fx", q), q <= smallSpanBar, q > 0, false)
				add(r, fmt.Sprintf("%s at most %d 429", p.Name, smallMax429), fmt.Sprint(p.Throttled), p.Throttled <= smallMax429, true, false)
			}
		}
		bar, ok := floorTargets[r.N]
		hint := false
		if !ok {
			if judgedAtTarget || r.N != largest {
				continue
			}
			bar, hint = floorTargets[10000], true
		}
		for _, p := range r.Phases {
			if !slices.Contains(phases, p.Name) || (hint && r.N <= smallMaxN) {
				continue
			}
			q := ratio(time.Duration(p.Wall), r.floor(p))
			add(r, fmt.Sprintf("%s within %.2fx of floor", p.Name, bar), fmt.Sprintf("%.2fx", q), q <= bar, q > 0, hint)
		}
		add(r, fmt.Sprintf("state < %d bytes/batch", targetStateBytes), fmt.Sprintf("%.1f B", r.StateBytesPerBatch),
			r.StateBytesPerBatch < targetStateBytes, r.StateBytes > 0, hint)
	}
	for _, r := range runs {
		if r.N != rssAt {
			continue
		}
		var peak int64
		for _, p := range r.Phases {
			if slices.Contains(phases, p.Name) {
				peak = max(peak, p.PeakRSSKB)
			}
		}
		mb := float64(peak) / 1024
		add(r, fmt.Sprintf("provider peak RSS < %d MB", targetRSSMB), fmt.Sprintf("%.1f MB", mb), mb < targetRSSMB, peak > 0, r.N != targetRSSN)
	}
	for _, g := range growth(runs) {
		if !slices.Contains(phases, g.Phase) || g.Ratio == 0 {
			continue
		}
		hint := g.Hi != 100000 || g.Lo != 10000
		add(g.run, fmt.Sprintf("%s CPU/1k batches, %s: %s/%s <= %.1f", g.Process, g.Phase, countLabel(float64(g.Hi)), countLabel(float64(g.Lo)), targetGrowth),
			fmt.Sprintf("%.2fx", g.Ratio), g.Ratio <= targetGrowth, true, hint)
	}
	return out
}

// Growth is one line of the growth table: CPU seconds per 1,000 batches of
// one process in one phase, at each N, and the ratio of the largest N over
// a tenth of it (100k/10k) when both ran. Runs of other settings (Setup)
// are lines of their own.
type Growth struct {
	Mode    string          `json:"mode"`
	Setup   string          `json:"setup,omitempty"`
	Phase   string          `json:"phase"`
	Process string          `json:"process"` // provider or terraform
	PerN    map[int]float64 `json:"cpu_s_per_1k_batches"`
	Hi, Lo  int             `json:"-"`
	Ratio   float64         `json:"ratio"`
	run     Run             // the settings, at N = Hi
}

const (
	procProvider  = "provider"
	procTerraform = "terraform"
)

// growth builds the growth table from the runs, by settings, mode, phase
// and process.
func growth(runs []Run) []Growth {
	var out []Growth
	index := map[string]int{}
	for _, r := range runs {
		for _, p := range r.Phases {
			for _, proc := range []string{procProvider, procTerraform} {
				v := p.ProviderPer1k()
				if proc == procTerraform {
					v = p.TerraformPer1k()
				}
				key := r.setup() + "/" + r.Mode + "/" + p.Name + "/" + proc
				i, ok := index[key]
				if !ok {
					i = len(out)
					index[key] = i
					out = append(out, Growth{Mode: r.Mode, Setup: r.setup(), Phase: p.Name, Process: proc, PerN: map[int]float64{},
						run: Run{Mode: r.Mode, Rate: r.Rate, Pace: r.Pace, RequestsPerSecond: r.RequestsPerSecond}})
				}
				out[i].PerN[r.N] = v
			}
		}
	}
	for i := range out {
		g := &out[i]
		for n := range g.PerN {
			g.Hi = max(g.Hi, n)
		}
		g.run.N = g.Hi
		if lo, ok := g.PerN[g.Hi/10]; ok && g.Hi%10 == 0 && lo > 0 {
			g.Lo, g.Ratio = g.Hi/10, g.PerN[g.Hi]/lo
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Mode != b.Mode {
			return a.Mode < b.Mode
		}
		if c := compareSetup(a.run, b.run); c != 0 {
			return c < 0
		}
		if a.Phase != b.Phase {
			return phaseRank(a.Phase) < phaseRank(b.Phase)
		}
		return a.Process < b.Process
	})
	return out
}

// compareSetup orders runs' settings: rate, pace, requests_per_second.
func compareSetup(a, b Run) int {
	switch {
	case a.Rate != b.Rate:
		return cmpFloat(a.Rate, b.Rate)
	case a.Pace != b.Pace:
		return strings.Compare(a.Pace, b.Pace)
	}
	return cmpFloat(a.RequestsPerSecond, b.RequestsPerSecond)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sizes are the Ns of the runs, ascending.
func sizes(runs []Run) []int { return distinct(runs, func(r Run) int { return r.N }) }

// distinct is the runs' distinct values of key, ascending.
func distinct[T cmp.Ordered](runs []Run, key func(Run) T) []T {
	var out []T
	for _, r := range runs {
		if v := key(r); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// setups are the runs' distinct settings labels, in compareSetup order.
func setups(runs []Run) []string {
	rs := append([]Run(nil), runs...)
	slices.SortStableFunc(rs, compareSetup)
	var out []string
	for _, r := range rs {
		if s := r.setup(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// rates are the runs' distinct rate limits, ascending.
func rates(runs []Run) []float64 { return distinct(runs, func(r Run) float64 { return r.Rate }) }

// ratesLabel names the rate limits, as in "100/s, 500/s".
func ratesLabel(runs []Run) string {
	var parts []string
	for _, r := range rates(runs) {
		parts = append(parts, Run{Rate: r}.setup())
	}
	return strings.Join(parts, ", ")
}

// writeGrowth writes the growth table.
func writeGrowth(w io.Writer, runs []Run) {
	ns := sizes(runs)
	fmt.Fprint(w, "| mode | R, pace | phase | process |")
	for _, n := range ns {
		fmt.Fprintf(w, " N = %s |", countLabel(float64(n)))
	}
	fmt.Fprintln(w, " growth |")
	fmt.Fprint(w, "|---|---|---|---|")
	for range ns {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w, "---:|")
	for _, g := range growth(runs) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |", g.Mode, g.Setup, g.Phase, g.Process)
		for _, n := range ns {
			if v, ok := g.PerN[n]; ok {
				fmt.Fprintf(w, " %.3f |", v)
			} else {
				fmt.Fprint(w, " - |")
			}
		}
		if g.Ratio > 0 {
			fmt.Fprintf(w, " %.2fx (%s/%s) |\n", g.Ratio, countLabel(float64(g.Hi)), countLabel(float64(g.Lo)))
		} else {
			fmt.Fprintln(w, " - |")
		}
	}
}

// writeTable writes the results as a Markdown table (readable as text too).
// Each row's floor is at its run's rate (R); terraform's peak RSS, steady
// at these sizes, is left to results.json.
func writeTable(w io.Writer, rep *Report) {
	fmt.Fprintln(w, "| N | R, pace | mode | phase | wall | calls | 429s | fewest calls | floor | wall/floor | API span | span/floor | process span/floor | between processes | outside API | provider CPU/1k | terraform CPU/1k | peak RSS | state/batch | others | baseline | speed-up |")
	fmt.Fprintln(w, "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Runs {
		rows := append([]Phase(nil), r.Phases...)
		sort.SliceStable(rows, func(i, j int) bool { return phaseRank(rows[i].Name) < phaseRank(rows[j].Name) })
		for _, p := range rows {
			wall := time.Duration(p.Wall)
			fl := r.floor(p)
			base, speed := "skipped", "-"
			switch p.BaselineStatus {
			case baselineMeasured:
				base = p.Baseline.String()
			case baselineEstimated:
				base = "est. ~" + p.Baseline.String()
			case "":
				base = "-"
			}
			if s := speedup(wall, time.Duration(p.Baseline)); s > 0 {
				speed = fmt.Sprintf("%.1fx", s)
			}
			state := ""
			if p.Name == phaseCreate {
				state = fmt.Sprintf("%.1f B", r.StateBytesPerBatch)
			}
			x := func(q float64) string {
				if q > 0 {
					return fmt.Sprintf("%.2fx", q)
				}
				return "-"
			}
			name := p.Name
			if p.Note != "" {
				name += " (" + p.Note + ")"
			}
			others := "-"
			if p.Metered {
				others = fmt.Sprintf("%.1f", p.OthersCores())
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %.3f s | %.3f s | %.1f MB | %s | %s | %s | %s |\n",
				r.N, r.setup(), r.Mode, name, p.Wall, p.Calls, p.Throttled, p.MinCalls, Seconds(fl), x(ratio(wall, fl)),
				p.APISpan, x(r.spanRatio(p)), x(r.processRatio(p)), Seconds(p.between()), Seconds(p.outside()), p.ProviderPer1k(), p.TerraformPer1k(), float64(p.PeakRSSKB)/1024, state, others, base, speed)
		}
	}
}

func writeVerdicts(w io.Writer, vs []Verdict) {
	if len(vs) == 0 {
		return
	}
	fmt.Fprintln(w, "| target | N | R, pace | mode | value | result |")
	fmt.Fprintln(w, "|---|---:|---|---|---:|---|")
	for _, v := range vs {
		res := v.Result
		if v.Hint {
			res += " (hint: not the target's N)"
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", v.Target, v.N, v.Setup, v.Mode, v.Value, res)
	}
}

// notes explains the columns; printed under the table and in results.md.
func notes(rep *Report) string {
	limit := fmt.Sprintf("Above -baseline-max-n=%d it is not run", rep.BaselineMax)
	if rep.BaselineMax == 0 {
		limit = "This run left it out (-baseline=false)"
	}
	conc := fmt.Sprintf("Provider max_concurrency = %d", rep.Concurrency)
	if rep.Concurrency == 0 {
		conc = "The provider's defaults (max_concurrency 16, timeouts, page size 100)"
	}
	query := ""
	if rep.QueryCLI != "" {
		query = fmt.Sprintf(" The query probe runs Terraform %s (terraform query needs 1.14 or later).", rep.QueryCLI)
	}
	limit429 := fmt.Sprintf("rate limit %g requests/s (token bucket, burst %g", rep.Rate, max(1, rep.Rate/10))
	if rs := rates(rep.Runs); len(rs) > 1 || (len(rs) == 1 && rs[0] != rep.Rate) {
		limit429 = fmt.Sprintf("rate limit R = %s per run (token bucket, burst R/10", ratesLabel(rep.Runs))
	}
	return fmt.Sprintf(`- Emulator on loopback: %s added to every API request, %s; a 429 carries Retry-After).
  %s. Terraform %s, %s, %d CPUs (emulator, Terraform and provider share them).%s
%s- Phases: create = terraform apply; refresh = terraform plan with no change; update = terraform apply after
  10%% new batches (a plan's refresh, then the apply); destroy = terraform destroy (its refresh, then the
  delete). Probes, after update and before destroy, in a workspace of their own: batches = terraform plan
  of a configuration that reads data.isahitlab_batches (one object per batch); query = terraform query
  of the isahitlab_webhook list resource (one result per workflow holding a webhook, limit = N); health =
  terraform plan of data.isahitlab_webhook_health over the project (list + a read per workflow).
- calls: API requests the emulator received during the phase; 429s: of which refused by the rate limit.
- fewest calls: the fewest a correct provider needs when the refresh of the same run has read
  everything, as TestCLI_workPerPhaseIsLinear pins it. A provider process that walks the project logs in,
  checks the project and lists pages of 100 (+ one batch read per batch when list documents lack the
  workflow); then create sets each workflow (the setup answer carries the webhook: no read back); refresh
  reads each; update = the plan's refresh + a login and a set per new workflow (no second walk); destroy =
  its refresh + a login and a clear per workflow the refresh found holding our url (no second walk, no
  second read); batches = the data source's list; query = list + a read per workflow.
- floor = fewest calls / R, at the run's own R: no phase that keeps to the contract can take less.
  wall/floor is how close the phase came to it; more calls than the fewest (retries, 429s) show there too.
- API span: first to last API request of the phase; span/floor is how close it came to the floor.
  outside API = wall - span: process starts, and Terraform and the provider handling the state and plan,
  a fixed cost the provider hardly controls that dominates at small N (results.json has the per-second
  accepted and 429 answers, and api_start_s, the time before the first request).
- process span: the API span of each provider process of the phase (each starts with a login, which
  splits the requests), summed; between processes = API span - process span: update and destroy run a
  plan process, then an apply process, and in between Terraform plans and starts the next one while no
  provider calls the API. The target at N <= 1,000 judges process span/floor, not span/floor, since the
  time between processes is Terraform's, a fixed cost that weighs most against the small floors there.
- provider CPU/1k: user + system CPU seconds of every provider process of the phase, per 1,000 batches
  (= milliseconds per batch). terraform CPU/1k: the terraform process's own CPU, per 1,000 batches: its
  rusage (which counts the children it reaped) minus the provider processes and their wrapper. Totals
  are in results.json. Both include process start-up, which dominates at small N.
- baseline: the Python SDK's algorithm with this project's client on a fresh emulator with the same L and R:
  sequential, pages of 10 with 0.5 s between pages, then per batch: create/update setup-webhook by batch
  (the SDK re-sets every batch, it keeps no state), refresh get_webhook (batch read + workflow read),
  destroy setup-webhook with url null. It never reads the workflow from list documents, so it is the same
  for both modes and runs once per N. %s; "est." values scale the
  largest measured N linearly (its cost is pages x (L + 0.5 s) + calls x L, linear in N).
- speed-up = baseline wall / provider wall. peak RSS: the largest provider process of the phase
  (results.json also has the terraform CLI process's, terraform_peak_rss_kib).
- state/batch: terraform.tfstate bytes after create (private state included) / N.
- others: CPUs kept busy on average during the phase by work that was neither the benchmark (emulator)
  nor the terraform process and its providers: the machine's busy time (/proc/stat) minus theirs. The
  machine has %d CPUs; where others took a good part of them, wall times and floor ratios suffer, CPU
  times much less.
`, time.Duration(rep.Latency), limit429, conc, rep.Terraform, rep.GoVersion, rep.CPUs, query, setupNotes(rep.Runs), limit, rep.CPUs)
}

// setupNotes explains the R, pace column for the settings the runs used.
func setupNotes(runs []Run) string {
	var paces []string
	var rps []float64
	for _, r := range runs {
		if !slices.Contains(paces, r.Pace) {
			paces = append(paces, r.Pace)
		}
		if r.RequestsPerSecond > 0 && !slices.Contains(rps, r.RequestsPerSecond) {
			rps = append(rps, r.RequestsPerSecond)
		}
	}
	slices.Sort(paces)
	slices.Sort(rps)
	var b strings.Builder
	b.WriteString("- R, pace: the run's rate limit R, and -pace: where the provider keeps the pace it learns from 429s\n  (" + envPaceDir + ").")
	for _, p := range paces {
		switch p {
		case paceWarm:
			b.WriteString("\n  warm = one fresh directory per scenario (N, mode), shared by its phases as a user's successive\n  commands share it; no two scenarios share one.")
		case paceCold:
			b.WriteString("\n  cold = a fresh directory per phase: each command starts knowing nothing.")
		case "":
			b.WriteString("\n  no pace shown = measured before " + envPaceDir + ": no pace kept.")
		}
	}
	if len(rps) > 0 {
		var vs []string
		for _, v := range rps {
			vs = append(vs, fmt.Sprintf("%g", v))
		}
		b.WriteString("\n  rps: the provider block sets requests_per_second = " + strings.Join(vs, " or ") + " (-requests-per-second).")
	}
	return b.String() + "\n"
}

// guideImages is where -merge writes the charts, relative to the repository
// root: the performance guide (docs/guides/performance.md) links them there,
// inside docs/, the only directory the Terraform Registry publishes. Not
// docs/guides/images: tfplugindocs generate empties docs/guides, and its
// validate refuses a directory or a file other than .md in it.
const guideImages = "docs/images"

// writeFiles writes results.json and results.md into dir; results.md links
// the charts, written to images.
func writeFiles(dir, images string, rep *Report) error {
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
	md.WriteString("CPU seconds per 1,000 batches (= ms per batch), by N; growth = the largest N over a tenth of it:\n\n")
	writeGrowth(&md, rep.Runs)
	if len(rep.Verdicts) > 0 {
		md.WriteString("\nTargets (issues 11 and 16 at N = 10k and 100k, L = 20 ms, R = 500/s; issue 22 at N <= 1k, any R):\n\n")
		writeVerdicts(&md, rep.Verdicts)
	}
	link := func(name string) string {
		if rel, err := filepath.Rel(dir, images); err == nil {
			return filepath.ToSlash(filepath.Join(rel, name))
		}
		return filepath.ToSlash(filepath.Join(images, name))
	}
	fmt.Fprintf(&md, "\n![Wall time against N](%s)\n", link("performance.svg"))
	for _, mode := range []string{modeWith, modeWithout} {
		for _, r := range rep.Runs {
			if r.Mode == mode {
				fmt.Fprintf(&md, "\n![CPU per batch against N, %s](%s)\n", mode, link(cpuPlotName(mode)))
				break
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644)
}

// cpuPlotName is the file of a mode's CPU plot.
func cpuPlotName(mode string) string { return "cpu-per-batch-" + mode + ".svg" }
