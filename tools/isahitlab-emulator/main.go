// Command isahitlab-emulator serves the in-memory Isahit Lab API on a loopback address, for demos,
// benchmarks and people trying the provider without an account.
//
//	go run ./tools/isahitlab-emulator -addr 127.0.0.1:8080 -batches 3
//
// It prints the endpoint (e.g. http://127.0.0.1:8080/) on stdout once listening and, with
// -ready-file, atomically writes a JSON description of the seeded data:
//
//	{"endpoint":"http://127.0.0.1:PORT/","access_id":"demo-access-id",
//	 "projects":[{"id":..,"name":..,"batches":[{"id":..,"name":..,"workflow_id":..}]}]}
//
// (workflow_id is "" for a batch seeded with "no_workflow".) Faults and the answer of
// setup-webhook are flags too (-latency, -rate-limit, -fail-rate, -drop-rate, -throttle-rate,
// -revoke-tokens-every, -setup-answer); see -help.
//
// Seed data comes from -projects/-batches (projects "project-N" with batches "batch-N") or from
// -seed-file (format in the emulator package documentation). With the defaults (1 project,
// 3 batches) the ids are fixed: project 6650c1f2a9b4000000000001, batches ...002, ...004, ...006
// with workflows ...003, ...005, ...007. It stops cleanly on SIGINT/SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	addr, accessID, secretKey, seedFile, readyFile string
	setupAnswer                                    string
	projects, batches, pageCap, revokeEvery        int
	tokenTTL, latency                              time.Duration
	rateLimit, failRate, dropRate, throttleRate    float64
	seed                                           int64
	omitWorkflow, allowRemote, logRequests         bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("isahitlab-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", `listen address; "127.0.0.1:0" picks a free port`)
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback listen address (the API has no real security)")
	fs.StringVar(&c.accessID, "access-id", emulator.DefaultAccessID, "accepted access id")
	fs.StringVar(&c.secretKey, "secret-key", emulator.DefaultSecretKey, "accepted secret key")
	fs.IntVar(&c.projects, "projects", 1, "number of projects to seed (ignored with -seed-file)")
	fs.IntVar(&c.batches, "batches", 3, "batches per seeded project (ignored with -seed-file)")
	fs.StringVar(&c.seedFile, "seed-file", "", "JSON seed file with projects and batches (see the emulator package doc)")
	fs.DurationVar(&c.tokenTTL, "token-ttl", emulator.DefaultTokenTTL, "access token lifetime")
	fs.IntVar(&c.pageCap, "page-cap", emulator.DefaultPageCap, "server-side cap on list limit")
	fs.BoolVar(&c.omitWorkflow, "omit-workflow", false, "list documents (B2) carry no workflow field")
	fs.DurationVar(&c.latency, "latency", 0, "latency added to every API request")
	fs.Float64Var(&c.rateLimit, "rate-limit", 0, "API requests per second (0 = unlimited); over it 429 with Retry-After")
	fs.Float64Var(&c.failRate, "fail-rate", 0, "share [0,1] of API requests answered 500/503")
	fs.Float64Var(&c.dropRate, "drop-rate", 0, "share [0,1] of API requests dropped with no answer")
	fs.Float64Var(&c.throttleRate, "throttle-rate", 0, "share [0,1] of API requests answered 429 at random, whatever the rate")
	fs.IntVar(&c.revokeEvery, "revoke-tokens-every", 0, "revoke every live access token each time this many API requests were authorized (0 = never)")
	fs.StringVar(&c.setupAnswer, "setup-answer", string(emulator.SetupAnswerStored), fmt.Sprintf("what setup-webhook answers: one of %v", emulator.SetupAnswers))
	fs.Int64Var(&c.seed, "seed", 1, "seed of the fault randomness")
	fs.StringVar(&c.readyFile, "ready-file", "", "once listening, write the endpoint and seeded ids to this JSON file")
	fs.BoolVar(&c.logRequests, "log-requests", false, "log method, path, status and duration of each request to stderr (never headers)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case c.seedFile != "" && (set["projects"] || set["batches"]):
		return c, errors.New("-seed-file and -projects/-batches are exclusive")
	case c.projects < 0 || c.batches < 0:
		return c, fmt.Errorf("-projects and -batches must be >= 0 (got %d, %d)", c.projects, c.batches)
	case c.pageCap < 1:
		return c, fmt.Errorf("-page-cap must be >= 1, got %d", c.pageCap)
	case c.tokenTTL <= 0:
		return c, fmt.Errorf("-token-ttl must be positive, got %s", c.tokenTTL)
	case c.latency < 0:
		return c, fmt.Errorf("-latency must be >= 0, got %s", c.latency)
	case c.rateLimit < 0:
		return c, fmt.Errorf("-rate-limit must be >= 0, got %g", c.rateLimit)
	case c.failRate < 0 || c.failRate > 1 || c.dropRate < 0 || c.dropRate > 1 || c.throttleRate < 0 || c.throttleRate > 1:
		return c, fmt.Errorf("-fail-rate, -drop-rate and -throttle-rate must be in [0,1] (got %g, %g, %g)", c.failRate, c.dropRate, c.throttleRate)
	case c.revokeEvery < 0:
		return c, fmt.Errorf("-revoke-tokens-every must be >= 0, got %d", c.revokeEvery)
	case c.accessID == "" || c.secretKey == "":
		return c, errors.New("-access-id and -secret-key must not be empty")
	}
	if _, err := emulator.ParseSetupAnswer(c.setupAnswer); err != nil {
		return c, fmt.Errorf("-setup-answer: %w", err)
	}
	if !c.allowRemote && !isLoopback(c.addr) {
		return c, fmt.Errorf("refusing to listen on %q: not a loopback address (use -allow-remote to insist)", c.addr)
	}
	return c, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		say(stderr, "isahitlab-emulator:", err)
		return 2
	}

	seed := emulator.GenerateSeed(c.projects, c.batches)
	if c.seedFile != "" {
		data, err := os.ReadFile(c.seedFile)
		if err == nil {
			seed, err = emulator.ParseSeed(data)
		}
		if err != nil {
			say(stderr, "isahitlab-emulator:", err)
			return 2
		}
	}
	e := emulator.New(emulator.Options{
		AccessID: c.accessID, SecretKey: c.secretKey, TokenTTL: c.tokenTTL, PageCap: c.pageCap,
		ListOmitsWorkflow: c.omitWorkflow, Seed: c.seed,
		Faults: emulator.Faults{Latency: c.latency, RateLimit: c.rateLimit, FailRate: c.failRate, DropRate: c.dropRate,
			ThrottleRate: c.throttleRate, RevokeTokensEvery: c.revokeEvery},
	})
	if err := e.SetSetupAnswer(emulator.SetupAnswer(c.setupAnswer)); err != nil {
		say(stderr, "isahitlab-emulator:", err) // checked by parseFlags; kept for safety
		return 2
	}
	if err := e.ApplySeed(seed); err != nil {
		say(stderr, "isahitlab-emulator:", err)
		return 2
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		say(stderr, "isahitlab-emulator:", err)
		return 1
	}
	endpoint := "http://" + ln.Addr().String() + "/"
	var h http.Handler = e
	if c.logRequests {
		h = logRequests(e, stderr)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if c.readyFile != "" {
		if err := writeReady(c.readyFile, endpoint, c.accessID, e); err != nil {
			say(stderr, "isahitlab-emulator: ready file:", err)
			_ = srv.Close()
			return 1
		}
		defer func() { _ = os.Remove(c.readyFile) }()
	}
	nb := 0
	for _, p := range e.Projects() {
		nb += len(e.ProjectBatches(p.ID))
	}
	say(stdout, endpoint)
	say(stderr, fmt.Sprintf("isahitlab-emulator: serving %d project(s), %d batch(es) at %s (access id %q)",
		len(e.Projects()), nb, endpoint, c.accessID))

	select {
	case err := <-served:
		say(stderr, "isahitlab-emulator:", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	say(stderr, "isahitlab-emulator: stopped")
	return 0
}

type readyDoc struct {
	Endpoint string         `json:"endpoint"`
	AccessID string         `json:"access_id"`
	Projects []readyProject `json:"projects"`
}

type readyProject struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Batches []readyBatch `json:"batches"`
}

type readyBatch struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	WorkflowID string `json:"workflow_id"`
}

// writeReady writes the ready file through a temporary file and a rename, so a script polling
// for it never reads half a file.
func writeReady(path, endpoint, accessID string, e *emulator.Emulator) error {
	doc := readyDoc{Endpoint: endpoint, AccessID: accessID, Projects: []readyProject{}}
	for _, p := range e.Projects() {
		rp := readyProject{ID: p.ID, Name: p.Name, Batches: []readyBatch{}}
		for _, id := range e.ProjectBatches(p.ID) {
			if b, ok := e.Batch(id); ok {
				rp.Batches = append(rp.Batches, readyBatch{ID: b.ID, Name: b.Name, WorkflowID: b.WorkflowID})
			}
		}
		doc.Projects = append(doc.Projects, rp)
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".isahitlab-emulator-ready-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // no-op after a successful rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// logWriter records the status for the request log line; Unwrap keeps the emulator's
// connection drop (Hijack through http.ResponseController) working.
type logWriter struct {
	http.ResponseWriter
	status int
}

func (l *logWriter) WriteHeader(code int) {
	if l.status == 0 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *logWriter) Write(b []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	return l.ResponseWriter.Write(b)
}

func (l *logWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// logRequests logs method, path, query, status and duration; never headers or bodies, which
// carry credentials, tokens and webhook header values.
func logRequests(next http.Handler, out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		lw := &logWriter{ResponseWriter: w}
		defer func() {
			q := ""
			if r.URL.RawQuery != "" {
				q = "?" + r.URL.RawQuery
			}
			_, _ = fmt.Fprintf(out, "%s %s%s %d %s\n", r.Method, r.URL.Path, q, lw.status, time.Since(start).Round(time.Microsecond))
		}()
		next.ServeHTTP(lw, r)
	})
}

// say writes one line; a failed write to the terminal is not worth stopping the server for.
func say(w io.Writer, a ...any) { _, _ = fmt.Fprintln(w, a...) }
