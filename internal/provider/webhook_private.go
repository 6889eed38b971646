package provider

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/isahit/terraform-provider-isahitlab/internal/webhooks"
)

// privateRecord is all that the isahitlab_webhook resource keeps in private
// state, under the one key privateKey, as JSON. It is written only from what
// happened: after a refresh, or after an apply (a failed one included, then
// recording what was sent).
//
//   - v: the record's version (privateVersion).
//   - owned_urls: the urls this resource has sent to the server (or adopted
//     on import), most recent last, at most maxOwnedURLs. Destroy clears a
//     workflow only while it holds one of them: a url someone else set since
//     is theirs. A history, not the last url: after a url change that failed
//     on some batches, those still hold the previous url, which is ours.
//   - pending: after an update that failed on some workflows, the webhook it
//     was sending (a fingerprint: url, header mode, version and a SHA-256 of
//     the header attribute, which the state holds anyway; never a write-only
//     value) and the workflows found holding it, so that the retry of the
//     same change, after a refresh in its own command, sets only the others.
//     Dropped by any successful apply.
//   - why: project scope: which batches the last refresh found out of step
//     and why, a few lines at any size, for the plan's warning.
//   - seen: project scope, written by a refresh that read every workflow:
//     what it found (seenRecord), so that the apply of the same command sets
//     or clears exactly that without walking the project again; an apply
//     drops it. An apply in another command walks (webhook_run.go).
type privateRecord struct {
	Version   int            `json:"v"`
	OwnedURLs []string       `json:"owned_urls,omitempty"`
	Pending   *pendingChange `json:"pending,omitempty"`
	Why       string         `json:"why,omitempty"`
	Seen      *seenRecord    `json:"seen,omitempty"`
}

type pendingChange struct {
	Want   string      `json:"want"`
	InStep workflowSet `json:"in_step,omitempty"`
}

// workflowSet is a set of workflow ids as sorted 8-byte FNV-1a hashes.
type workflowSet []byte

const (
	privateKey     = "webhook"
	privateVersion = 1
	maxOwnedURLs   = 5
)

type privateGetter interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateSetter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// readPrivate decodes the record for state. A missing or unreadable record
// owns the url in state; keys of the provider before the record
// (applied_url, header_write_only) are read once, then dropped when the
// record is written.
func readPrivate(ctx context.Context, p privateGetter, state *webhookModel) privateRecord {
	rec := privateRecord{Version: privateVersion}
	raw, diags := p.GetKey(ctx, privateKey)
	if !diags.HasError() && len(raw) > 0 && json.Unmarshal(raw, &rec) == nil {
		return rec
	}
	if raw, d := p.GetKey(ctx, "applied_url"); !d.HasError() && len(raw) > 0 {
		var u string
		if json.Unmarshal(raw, &u) == nil {
			rec.own(u)
		}
	}
	if raw, d := p.GetKey(ctx, "header_write_only"); !d.HasError() && string(raw) == "1" &&
		state.HeaderMode.ValueString() == headerNone {
		state.HeaderMode = types.StringValue(headerWriteOnly)
	}
	if len(rec.OwnedURLs) == 0 {
		rec.own(state.URL.ValueString())
	}
	return rec
}

// write stores the record and empties the keys it replaces.
func (rec privateRecord) write(ctx context.Context, p privateSetter) diag.Diagnostics {
	rec.Version = privateVersion
	b, err := json.Marshal(rec)
	var diags diag.Diagnostics
	if err != nil {
		diags.AddError("Cannot encode private state", err.Error())
		return diags
	}
	diags.Append(p.SetKey(ctx, privateKey, b)...)
	for _, old := range []string{"applied_url", "header_write_only", "out_of_step"} {
		diags.Append(p.SetKey(ctx, old, nil)...)
	}
	return diags
}

// afterRefresh records what a refresh found: why batches are out of step,
// the project's workflows when every one was read (seen), and of a change
// that failed midway only the workflows that still hold it.
func (rec *privateRecord) afterRefresh(o outcome) {
	rec.Why, rec.Seen = o.why, nil
	res := o.inspected
	if res == nil {
		rec.Pending = nil
		return
	}
	rec.Pending = rec.Pending.stillHeld(res.URLs) // a reached workflow may have been reverted since
	if len(res.Failed) == 0 && len(res.Unreadable) == 0 {
		rec.Seen = seenOf(res, rec.owns)
	}
}

// afterUpdate records what an update did: a url sent is owned (the server
// may hold it, failed or not); the refresh's findings are spent; a change
// that failed midway is pending, with the workflows it reached, so that its
// retry sets only the others.
func (rec *privateRecord) afterUpdate(o outcome, url string, changed bool, plan *webhookModel) {
	if o.sent {
		rec.own(url)
	}
	rec.Pending, rec.Why, rec.Seen = nil, "", nil
	if o.failed() && changed {
		rec.Pending = &pendingChange{Want: fingerprint(plan), InStep: newWorkflowSet(o.inStep)}
	}
}

// own records that this resource sent (or adopted) url.
func (rec *privateRecord) own(url string) {
	if url == "" {
		return
	}
	rec.OwnedURLs = slices.DeleteFunc(rec.OwnedURLs, func(u string) bool { return u == url })
	rec.OwnedURLs = append(rec.OwnedURLs, url)
	if n := len(rec.OwnedURLs); n > maxOwnedURLs {
		rec.OwnedURLs = rec.OwnedURLs[n-maxOwnedURLs:]
	}
}

// owns reports whether url is one this resource set.
func (rec privateRecord) owns(url string) bool { return slices.Contains(rec.OwnedURLs, url) }

func newWorkflowSet(workflows []string) workflowSet {
	if len(workflows) == 0 {
		return nil
	}
	hashes := make([]uint64, len(workflows))
	for i, w := range workflows {
		hashes[i] = workflowHash(w)
	}
	slices.Sort(hashes)
	set := make(workflowSet, 0, 8*len(hashes))
	for _, h := range hashes {
		set = binary.BigEndian.AppendUint64(set, h)
	}
	return set
}

// contains answers whether a workflow is in the set; nil when the set is empty.
func (set workflowSet) contains() func(workflowID string) bool {
	n := len(set) / 8
	if n == 0 {
		return nil
	}
	return func(workflowID string) bool {
		h := workflowHash(workflowID)
		i := sort.Search(n, func(i int) bool { return binary.BigEndian.Uint64(set[8*i:]) >= h })
		return i < n && binary.BigEndian.Uint64(set[8*i:]) == h
	}
}

// seenRecord is what a project-scope refresh found, compact enough for
// 100,000 workflows (about 14 bytes each, before Terraform's encodings):
// every workflow it covered, with, for each, whether it holds the webhook
// the state describes (step), whether it holds a url this resource owns
// (held) or someone else's (other), and how many batches use it. Workflow
// ids are kept as 12 raw bytes when they are all 24 lowercase hex digits
// (the API's ids), else as strings; sorted, so that a lookup is a binary
// search.
//
// Run names the command that made the refresh (webhook_run.go): an apply
// uses the record only in that same command (madeHere).
type seenRecord struct {
	Run     string   `json:"r,omitempty"`
	Hex     []byte   `json:"x,omitempty"`
	IDs     []string `json:"i,omitempty"`
	Step    []byte   `json:"s,omitempty"`
	Held    []byte   `json:"h,omitempty"`
	Other   []byte   `json:"o,omitempty"`
	Batches []byte   `json:"b,omitempty"` // a uvarint per workflow
}

// madeHere reports whether the refresh that made the record ran in this
// command, so that its plan is the one being applied.
func (s *seenRecord) madeHere() bool {
	return s != nil && s.Run != "" && s.Run == currentRun()
}

// newSeen records a refresh's findings and registers it as made here.
func newSeen(workflows []string, inStep, held, other func(string) bool, batches map[string]int) *seenRecord {
	ids := slices.Clone(workflows)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	bits := (len(ids) + 7) / 8
	s := &seenRecord{Run: currentRun(), Step: make([]byte, bits), Held: make([]byte, bits), Other: make([]byte, bits)}
	packed := make([]byte, 0, 12*len(ids))
	for i, id := range ids {
		raw, err := hex.DecodeString(id)
		if packed != nil && (err != nil || len(raw) != 12 || hex.EncodeToString(raw) != id) {
			packed = nil // not all the API's usual ids: keep strings
		} else if packed != nil {
			packed = append(packed, raw...)
		}
		if inStep(id) {
			s.Step[i/8] |= 1 << (i % 8)
		}
		if held(id) {
			s.Held[i/8] |= 1 << (i % 8)
		}
		if other(id) {
			s.Other[i/8] |= 1 << (i % 8)
		}
		s.Batches = binary.AppendUvarint(s.Batches, uint64(batches[id]))
	}
	if packed != nil {
		s.Hex = packed
	} else {
		s.IDs = ids
	}
	return s
}

// seenOf records what a project-scope refresh found.
func seenOf(res *webhooks.InspectResult, owns func(url string) bool) *seenRecord {
	batches := make(map[string]int, len(res.Workflows))
	for _, w := range res.Batches {
		batches[w]++
	}
	return newSeen(res.Workflows, func(w string) bool { return res.InStep[w] },
		func(w string) bool { return owns(res.URLs[w]) },
		func(w string) bool { return res.URLs[w] != "" && !owns(res.URLs[w]) }, batches)
}

// ids lists the workflows, sorted.
func (s *seenRecord) ids() []string {
	if s.IDs != nil || len(s.Hex) == 0 {
		return s.IDs
	}
	out := make([]string, len(s.Hex)/12)
	for i := range out {
		out[i] = hex.EncodeToString(s.Hex[12*i : 12*i+12])
	}
	return out
}

func bit(set []byte, i int) bool { return i/8 < len(set) && set[i/8]&(1<<(i%8)) != 0 }

// batchCounts lists, by index of ids, the batches that use each workflow.
func (s *seenRecord) batchCounts() []int {
	var out []int
	for b := s.Batches; len(b) > 0; {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			break
		}
		out, b = append(out, int(v)), b[n:]
	}
	return out
}

// inStep answers whether a workflow was found holding the webhook.
func (s *seenRecord) inStep() func(workflowID string) bool {
	ids := s.ids()
	return func(id string) bool {
		i, ok := slices.BinarySearch(ids, id)
		return ok && bit(s.Step, i)
	}
}

// withWebhook lists the workflows found holding a webhook: a url this
// resource owns, which destroy clears if it still holds one, and someone
// else's, which destroy reads too so that its warning names what it leaves
// in place. A workflow found without a webhook can have gained one of our
// urls since only from this resource.
func (s *seenRecord) withWebhook() []string {
	var out []string
	for i, id := range s.ids() {
		if bit(s.Held, i) || bit(s.Other, i) {
			out = append(out, id)
		}
	}
	return out
}

// forUpdate is what an update may take from the record. Only a refresh of
// this same command tells which workflows the project has and which hold
// the webhook: then the update sets exactly what its plan showed, skipping
// what is known in step. Otherwise the update walks the project; where it
// would have skipped workflows (a converging update, the retry of a failed
// change), it reads each first and leaves alone those that hold the webhook.
func (rec privateRecord) forUpdate(changed bool, plan *webhookModel, want *webhooks.Want) prior {
	if !rec.Seen.madeHere() {
		want.SkipHeld = !changed || rec.Pending != nil
		return prior{}
	}
	return prior{known: rec.knownInStep(changed, plan), seen: rec.Seen}
}

// knownInStep is what an update of the refresh's command may skip: for a
// converging update (the webhook unchanged), the workflows the refresh
// found in step; for the retry of a change that failed midway, those that
// change reached and the refresh found still holding it. Never in
// header_wo mode for a change: the fingerprint cannot cover the write-only
// value, which may differ from the one the failed attempt sent, and no
// refresh could ever see the difference.
func (rec privateRecord) knownInStep(changed bool, plan *webhookModel) func(workflowID string) bool {
	switch {
	case !changed:
		return rec.Seen.inStep()
	case plan.HeaderMode.ValueString() == headerWriteOnly:
		return nil
	case rec.Pending != nil && rec.Pending.Want == fingerprint(plan):
		return rec.Pending.InStep.contains()
	}
	return nil
}

// stillHeld keeps, of a pending change, the workflows that a refresh found
// still holding its url (urls: workflow to url held); nil when none does,
// or when the refresh read no workflow.
func (p *pendingChange) stillHeld(urls map[string]string) *pendingChange {
	if p == nil {
		return nil
	}
	url, _, _ := strings.Cut(p.Want, "\x00")
	reached := p.InStep.contains()
	if reached == nil {
		return nil
	}
	var held []string
	for w, u := range urls {
		if u == url && reached(w) {
			held = append(held, w)
		}
	}
	if len(held) == 0 {
		return nil
	}
	return &pendingChange{Want: p.Want, InStep: newWorkflowSet(held)}
}

// fingerprint identifies the webhook a model asks for, without any
// write-only value.
func fingerprint(m *webhookModel) string {
	h := sha256.Sum256([]byte(m.Header.ValueString()))
	return strings.Join([]string{m.URL.ValueString(), m.HeaderMode.ValueString(), m.HeaderWOVersion.ValueString(), hex.EncodeToString(h[:])}, "\x00")
}

func workflowHash(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id)) // a hash never fails to write
	return h.Sum64()
}
