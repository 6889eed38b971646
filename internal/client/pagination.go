package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
)

// maxEmptyPages: a server that keeps saying "more" while sending empty pages
// is stopped with an error after this many in a row.
const maxEmptyPages = 3

// maxWalkPage bounds the page numbers a walk follows: page numbers only
// grow, so a walk makes at most this many requests, and a server's absurd
// nextPage is an error rather than a jump.
const maxWalkPage = 1 << 20

// maxPageLimit: a server's page size above this (or below 1) is not
// adopted; the walk keeps asking for its own.
const maxPageLimit = 10_000

// pageDoc is one answer of a paginated list; fields are optional so that a
// server omitting some of them is still walked correctly.
type pageDoc struct {
	Docs        []json.RawMessage `json:"docs"`
	Limit       optInt            `json:"limit"`
	Page        optInt            `json:"page"`
	TotalPages  optInt            `json:"totalPages"`
	HasNextPage jsonBool          `json:"hasNextPage"`
	NextPage    optInt            `json:"nextPage"`
}

// nextPage decides which page follows page cur: follow nextPage while
// hasNextPage is true; without hasNextPage, use nextPage, else totalPages.
// A next page that does not advance is an error, never a loop.
func nextPage(cur int64, p *pageDoc) (int64, bool, error) {
	var next int64
	switch {
	case p.HasNextPage.present && !p.HasNextPage.value:
		return 0, false, nil
	case p.HasNextPage.present:
		next = cur + 1
		if p.NextPage.present {
			next = p.NextPage.value
		}
	case p.NextPage.present:
		next = p.NextPage.value
	case p.TotalPages.present && cur < p.TotalPages.value:
		next = cur + 1
	default:
		return 0, false, nil
	}
	if next <= cur {
		return 0, false, fmt.Errorf("pagination: the server's next page (%d) does not advance past page %d", next, cur)
	}
	if next > maxWalkPage {
		return 0, false, fmt.Errorf("pagination: the server's next page (%d) is beyond page %d, the most this client walks", next, int64(maxWalkPage))
	}
	return next, true, nil
}

// maxReadAhead bounds the pages fetched ahead of the one being walked.
const maxReadAhead = 8

// pageFetch is one page request under way.
type pageFetch struct {
	done chan struct{}
	r    *request
	body []byte
	err  error
}

// walk calls fn for every document of a paginated list, in order. Once the
// first page says how many there are, the next few pages are fetched while
// the current one is walked (pages are cheap to ask for and a project's
// listing would otherwise be one round trip per page); at most
// maxReadAhead pages are held. An error from fn stops the walk and is
// returned as is.
func (c *Client) walk(ctx context.Context, path string, query url.Values, fn func(json.RawMessage) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	limit := int64(c.cfg.PageSize)
	ahead := map[int64]*pageFetch{}
	fetch := func(page int64) *pageFetch {
		if f, ok := ahead[page]; ok {
			return f
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("pagination", "true")
		q.Set("page", strconv.FormatInt(page, 10))
		q.Set("limit", strconv.FormatInt(limit, 10))
		f := &pageFetch{done: make(chan struct{}), r: &request{method: http.MethodGet, path: path, query: q, idempotent: true}}
		ahead[page] = f
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(f.done)
			resp, err := c.do(ctx, f.r)
			if err == nil {
				f.body = resp.body
			}
			f.err = err
		}()
		return f
	}
	readAhead := min(max(c.cfg.MaxConcurrency, 1), maxReadAhead)

	page := int64(1)
	empty := 0
	var prevFirst []byte
	for {
		f := fetch(page)
		<-f.done
		delete(ahead, page)
		if f.err != nil {
			return f.err
		}
		r := f.r
		var pd pageDoc
		if err := json.Unmarshal(f.body, &pd); err != nil {
			return fmt.Errorf("GET %s: unreadable page: %w", r.display(), c.redactErr(err))
		}
		// Trust the server's limit: page numbers count in its page size.
		if pd.Limit.present && pd.Limit.value > 0 && pd.Limit.value <= maxPageLimit && pd.Limit.value != limit {
			limit = pd.Limit.value
			for p := range ahead { // asked with another size: not the pages we want
				delete(ahead, p)
			}
		}
		if pd.TotalPages.present {
			// Bounded by readAhead whatever totalPages says.
			for p := page + 1; p <= min(pd.TotalPages.value, page+int64(readAhead), maxWalkPage); p++ {
				fetch(p)
			}
		}
		if len(pd.Docs) > 0 {
			if prevFirst != nil && bytes.Equal(prevFirst, pd.Docs[0]) {
				return fmt.Errorf("GET %s: pagination: the server sent page %d again", r.display(), page)
			}
			prevFirst = pd.Docs[0]
		}
		for _, d := range pd.Docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		next, more, err := nextPage(page, &pd)
		if err != nil {
			return fmt.Errorf("GET %s: %w", r.display(), err)
		}
		if !more {
			return nil
		}
		if len(pd.Docs) == 0 {
			if empty++; empty >= maxEmptyPages {
				return fmt.Errorf("GET %s: pagination: %d empty pages in a row while the server reports more", r.display(), empty)
			}
		} else {
			empty = 0
		}
		page = next
	}
}
