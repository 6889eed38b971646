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
//   - in_step: project scope only: the workflows that the last refresh or
//     apply found holding the webhook the state describes, as sorted 8-byte
//     FNV-1a hashes (a few bytes per workflow, where Terraform does not walk
//     it). A converging update sets only the other workflows; any change of
//     url, header or header mode sets them all.
//   - pending: after an update that failed on some workflows, the webhook it
//     was sending (a fingerprint: url, header mode, version and a SHA-256 of
//     the header attribute, which the state holds anyway; never a write-only
//     value) and the workflows found holding it, so that the retry of the
//     same change sets only the others. Dropped by any successful apply.
//   - why: project scope: which batches the last refresh found out of step
//     and why, a few lines at any size, for the plan's warning.
type privateRecord struct {
	Version   int            `json:"v"`
	OwnedURLs []string       `json:"owned_urls,omitempty"`
	InStep    workflowSet    `json:"in_step,omitempty"`
	Pending   *pendingChange `json:"pending,omitempty"`
	Why       string         `json:"why,omitempty"`
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

// setInStep records the workflows found in step.
func (rec *privateRecord) setInStep(workflows []string) { rec.InStep = newWorkflowSet(workflows) }

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

// knownInStep is what an update may skip: for a converging update (the
// webhook unchanged), the workflows the last refresh found in step; for the
// retry of a change that failed midway, those that change already reached.
// Never in header_wo mode for a change: the fingerprint cannot cover the
// write-only value, which may differ from the one the failed attempt sent,
// and no refresh could ever see the difference.
func (rec privateRecord) knownInStep(changed bool, plan *webhookModel) func(workflowID string) bool {
	switch {
	case !changed:
		return rec.InStep.contains()
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
