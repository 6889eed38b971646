package emulator

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by New when an Options field is left zero.
const (
	DefaultAccessID  = "demo-access-id"
	DefaultSecretKey = "demo-secret-key"
	DefaultTokenTTL  = time.Hour
	DefaultPageCap   = 100
)

// Options configures an Emulator. The zero value is usable.
type Options struct {
	AccessID, SecretKey string        // accepted credentials; defaults "demo-access-id" / "demo-secret-key"
	TokenTTL            time.Duration // default 1h; login's expires_in = TTL in whole seconds (at least 1)
	PageCap             int           // server-side cap on list `limit`; default 100
	ListOmitsWorkflow   bool          // B2 list documents carry no `workflow` field when true
	Faults                            // embedded; see Faults
	Seed                int64         // seeds fault randomness
	RecordRequests      bool          // keep a request log (Requests()); off by default to save memory at scale
}

// Faults are injected into API routes only (never into the _emulator/ admin routes).
type Faults struct {
	// Latency is added to every API request; the sleep ends early when the client goes away.
	Latency time.Duration
	// RateLimit is API requests/second over all endpoints including login; 0 means unlimited.
	// Token bucket with burst max(1, RateLimit/10). Over it: 429 with an integer Retry-After
	// (whole seconds until a token frees, at least 1).
	RateLimit float64
	// FailRate is the share [0,1] of API requests answered 500 or 503 (503 carries Retry-After: 1).
	FailRate float64
	// DropRate is the share [0,1] of API requests whose connection is closed with no answer.
	DropRate float64
	// ThrottleRate is the share [0,1] of API requests answered 429 with Retry-After: 1 at
	// random, as a server whose limit is shared with other tenants does.
	ThrottleRate float64
	// RevokeTokensEvery, when > 0, revokes every live token each time this many API requests
	// have been authorized (the one completing the count is still served), as another login
	// with the same access id, a key rotation or a restart would. A token may thus die right
	// after it is issued. 0 means never.
	RevokeTokensEvery int
}

// Request is one entry of the request log kept when Options.RecordRequests is set.
// Path is r.URL.Path as received (with its leading slash). Status is 0 when no answer was sent
// (dropped connection, or the client left during the added latency).
type Request struct {
	Endpoint, Method, Path, RawQuery string
	Status                           int
}

// BatchInfo is a snapshot of a batch.
type BatchInfo struct{ ID, Name, ProjectID, WorkflowID, Status string }

// ProjectInfo is a snapshot of a project.
type ProjectInfo struct{ ID, Name, Status, Type string }

// WebhookInfo is a snapshot of a workflow's webhook.
type WebhookInfo struct {
	URL       string
	Header    *string
	UpdatedAt time.Time
	LastCall  *CallInfo
	LastError *ErrorInfo
}

// CallInfo is the webhook's last delivery attempt. StatusCode is 0 when the receiver gave no answer.
type CallInfo struct {
	StatusCode int
	Message    string
	Date       time.Time
}

// ErrorInfo is the webhook's last failed delivery. Body is the decoded JSON when the receiver sent
// JSON, else the body as a string, nil when there was no body (or no answer).
type ErrorInfo struct {
	StatusCode int
	Message    string
	Body       any
}

// Endpoint ids used as keys of Calls, besides the fault/status keys below.
const (
	EndpointLogin       = "A1"
	EndpointGetWorkflow = "W1"
	EndpointSetupByWF   = "W2"
	EndpointSetupByB    = "W3"
	EndpointGetBatch    = "B1"
	EndpointListBatches = "B2"
	EndpointCreateBatch = "B4"
	EndpointDeleteBatch = "B6"
	EndpointProjects    = "P1"
	EndpointOther       = "other" // unknown API route (answered 404)

	CountRateLimited  = "429"
	CountServerError  = "5xx"
	CountDropped      = "dropped"
	CountUnauthorized = "401"
	CountRevocations  = "revocations" // times RevokeTokensEvery revoked every live token
)

var counterKeys = []string{
	EndpointLogin, EndpointGetWorkflow, EndpointSetupByWF, EndpointSetupByB, EndpointGetBatch,
	EndpointListBatches, EndpointCreateBatch, EndpointDeleteBatch, EndpointProjects, EndpointOther,
	CountRateLimited, CountServerError, CountDropped, CountUnauthorized, CountRevocations,
}

// Emulator is an in-memory Isahit Lab API. It implements http.Handler; mount it at "/".
type Emulator struct {
	// mu guards the data model, tokens and settings.
	mu                sync.RWMutex
	accessID          string
	secretKey         string
	tokenTTL          time.Duration
	pageCap           int
	listOmitsWorkflow bool
	nextID            uint64
	projects          []*project
	projectByID       map[string]*project
	batches           map[string]*batch
	workflows         map[string]*workflow
	forbidden         map[string]struct{}
	tokens            map[string]time.Time
	setupAnswer       SetupAnswer
	// Traits (traits.go), changed only by their setters.
	listIgnoresFilter bool
	batchReadNotFound map[string]struct{}
	setTraits         map[string]*setTrait
	// authorized counts API requests authorized since the last RevokeTokensEvery revocation.
	authorized int

	// fmu guards fault settings, the token bucket and the random source, apart from mu so that
	// the per-request bucket update never waits behind data readers.
	fmu          sync.Mutex
	faults       Faults
	rng          *rand.Rand
	bucketTokens float64
	bucketLast   time.Time

	// Counters: the map is built once in New and only read afterwards, so it needs no lock.
	calls       map[string]*atomic.Int64
	total       atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64

	record   bool
	reqMu    sync.Mutex
	requests []Request

	taskSeq       atomic.Uint64
	deliverClient *http.Client
}

// New returns an emulator with no data; seed it with AddProject/AddBatch or ApplySeed.
func New(opts Options) *Emulator {
	e := &Emulator{
		accessID:          opts.AccessID,
		secretKey:         opts.SecretKey,
		listOmitsWorkflow: opts.ListOmitsWorkflow,
		projectByID:       map[string]*project{},
		batches:           map[string]*batch{},
		workflows:         map[string]*workflow{},
		forbidden:         map[string]struct{}{},
		tokens:            map[string]time.Time{},
		setupAnswer:       SetupAnswerStored,
		rng:               rand.New(rand.NewPCG(uint64(opts.Seed), 0x9e3779b97f4a7c15)),
		calls:             make(map[string]*atomic.Int64, len(counterKeys)),
		record:            opts.RecordRequests,
		deliverClient:     newDeliverClient(),
	}
	if e.accessID == "" {
		e.accessID = DefaultAccessID
	}
	if e.secretKey == "" {
		e.secretKey = DefaultSecretKey
	}
	e.tokenTTL = normTTL(opts.TokenTTL)
	e.pageCap = normPageCap(opts.PageCap)
	for _, k := range counterKeys {
		e.calls[k] = new(atomic.Int64)
	}
	e.SetFaults(opts.Faults)
	return e
}

func normTTL(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTokenTTL
	}
	return d
}

func normPageCap(n int) int {
	if n <= 0 {
		return DefaultPageCap
	}
	return n
}

// SetListOmitsWorkflow switches whether B2 list documents carry `workflow`.
func (e *Emulator) SetListOmitsWorkflow(omit bool) {
	e.mu.Lock()
	e.listOmitsWorkflow = omit
	e.mu.Unlock()
}

// SetTokenTTL sets the lifetime of tokens issued from now on (<= 0 restores the default).
func (e *Emulator) SetTokenTTL(d time.Duration) {
	e.mu.Lock()
	e.tokenTTL = normTTL(d)
	e.mu.Unlock()
}

// SetPageCap sets the server-side cap on list `limit` (<= 0 restores the default).
func (e *Emulator) SetPageCap(n int) {
	e.mu.Lock()
	e.pageCap = normPageCap(n)
	e.mu.Unlock()
}

// ExpireTokens invalidates every access token issued so far (the next call with one gets 401).
func (e *Emulator) ExpireTokens() {
	e.mu.Lock()
	clear(e.tokens)
	e.mu.Unlock()
}

// Calls returns, per endpoint id ("A1","W1","W2","W3","B1","B2","B4","B6","P1","other"), the API
// requests received (faulted ones included), plus the answers "429", "5xx", "401", the
// "dropped" connections and the "revocations" of Faults.RevokeTokensEvery. Only non-zero
// entries are present.
func (e *Emulator) Calls() map[string]int {
	out := make(map[string]int)
	for k, c := range e.calls {
		if n := c.Load(); n != 0 {
			out[k] = int(n)
		}
	}
	return out
}

// TotalCalls is the number of API requests received (faulted ones included; admin routes excluded).
func (e *Emulator) TotalCalls() int { return int(e.total.Load()) }

// MaxInFlight is the peak of concurrent API requests seen since New or the last ResetCalls.
func (e *Emulator) MaxInFlight() int { return int(e.maxInFlight.Load()) }

// ResetCalls zeroes the counters, the in-flight peak and the request log.
func (e *Emulator) ResetCalls() {
	for _, c := range e.calls {
		c.Store(0)
	}
	e.total.Store(0)
	e.maxInFlight.Store(e.inFlight.Load())
	e.reqMu.Lock()
	e.requests = nil
	e.reqMu.Unlock()
}

// Requests returns a copy of the request log (empty unless Options.RecordRequests).
func (e *Emulator) Requests() []Request {
	e.reqMu.Lock()
	defer e.reqMu.Unlock()
	return append([]Request(nil), e.requests...)
}

// API paths of the contract (internal/client/CONTRACT.md), relative to the base URL.
const (
	pathLogin     = "api/user-manager/auth/login"
	pathWorkflows = "api/workflow-manager/workflows"
	pathSetup     = "api/workflow-manager/workflows/setup-webhook"
	pathBatches   = "api/task-manager/batches"
	pathProjects  = "api/project-manager/projects"
	adminPrefix   = "_emulator"
)

type handlerFunc func(e *Emulator, w http.ResponseWriter, r *http.Request, id string)

// route maps a request to its endpoint id, handler and path parameter. Unknown routes get
// EndpointOther and a nil handler (answered 404, as the real NestJS server does).
func route(method, path string, q func(string) bool) (endpoint string, h handlerFunc, id string, auth bool) {
	switch path {
	case pathLogin:
		if method == http.MethodPost {
			return EndpointLogin, (*Emulator).handleLogin, "", false
		}
	case pathSetup:
		if method == http.MethodPatch {
			if q("batchId") && !q("workflowId") {
				return EndpointSetupByB, (*Emulator).handleSetupWebhook, "", true
			}
			return EndpointSetupByWF, (*Emulator).handleSetupWebhook, "", true
		}
	case pathBatches:
		switch method {
		case http.MethodGet:
			return EndpointListBatches, (*Emulator).handleListBatches, "", true
		case http.MethodPost:
			return EndpointCreateBatch, (*Emulator).handleCreateBatch, "", true
		}
	case pathProjects:
		if method == http.MethodGet {
			return EndpointProjects, (*Emulator).handleListProjects, "", true
		}
	default:
		if rest, ok := cutSegment(path, pathWorkflows); ok && method == http.MethodGet {
			return EndpointGetWorkflow, (*Emulator).handleGetWorkflow, rest, true
		}
		if rest, ok := cutSegment(path, pathBatches); ok {
			switch method {
			case http.MethodGet:
				return EndpointGetBatch, (*Emulator).handleGetBatch, rest, true
			case http.MethodDelete:
				return EndpointDeleteBatch, (*Emulator).handleDeleteBatch, rest, true
			}
		}
	}
	return EndpointOther, nil, "", false
}

// cutSegment returns the single path segment after prefix+"/".
func cutSegment(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}

// ServeHTTP serves the API paths of the contract (internal/client/CONTRACT.md) and the
// _emulator/ admin routes.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Paths are relative to the mount point; exactly one leading slash is expected, so a
	// client that joins "base/" + "/api/..." lands on an unknown route, as it would for real.
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == adminPrefix || strings.HasPrefix(path, adminPrefix+"/") {
		e.serveAdmin(w, r, strings.TrimSuffix(path, "/"))
		return
	}
	path = strings.TrimSuffix(path, "/")
	query := r.URL.Query()
	has := func(k string) bool { return len(query[k]) > 0 }
	endpoint, h, id, auth := route(r.Method, path, has)
	e.serveAPI(w, r, endpoint, h, id, auth)
}

// statusWriter runs the accounting once, when the status is written and before any byte reaches
// the client, so a client that reads Calls() right after its answer sees its own request counted.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onStatus func(int)
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
		s.onStatus(code)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request, endpoint string, h handlerFunc, id string, auth bool) {
	n := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	for {
		m := e.maxInFlight.Load()
		if n <= m || e.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	e.total.Add(1)
	e.calls[endpoint].Add(1)

	// account counts the answer (status 0: none) and logs the request.
	account := func(status int, dropped bool) {
		switch {
		case dropped:
			e.calls[CountDropped].Add(1)
		case status == http.StatusTooManyRequests:
			e.calls[CountRateLimited].Add(1)
		case status >= 500:
			e.calls[CountServerError].Add(1)
		case status == http.StatusUnauthorized:
			e.calls[CountUnauthorized].Add(1)
		}
		if e.record {
			e.reqMu.Lock()
			e.requests = append(e.requests, Request{Endpoint: endpoint, Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Status: status})
			e.reqMu.Unlock()
		}
	}

	d := e.admit(time.Now())
	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			account(0, false)
			return
		}
	}

	sw := &statusWriter{ResponseWriter: w, onStatus: func(status int) { account(status, false) }}
	switch d.kind {
	case faultRateLimited:
		sw.Header().Set("Retry-After", itoa(d.retryAfter))
		writeError(sw, http.StatusTooManyRequests, "Too Many Requests")
	case faultDrop:
		account(0, true)
		dropConnection(w)
	case faultFail500:
		writeError(sw, http.StatusInternalServerError, "Internal Server Error")
	case faultFail503:
		sw.Header().Set("Retry-After", "1")
		writeError(sw, http.StatusServiceUnavailable, "Service Unavailable")
	default:
		switch {
		case h == nil:
			writeError(sw, http.StatusNotFound, "Cannot "+r.Method+" "+r.URL.Path)
		case auth && !e.authorize(r, d.revokeEvery):
			writeError(sw, http.StatusUnauthorized, "Unauthorized")
		default:
			h(e, sw, r, id)
			if sw.status == 0 {
				sw.WriteHeader(http.StatusOK)
			}
		}
	}
}
