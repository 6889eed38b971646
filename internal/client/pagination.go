package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// maxEmptyPages: a server that keeps saying "more" while sending empty pages
// is stopped with an error after this many in a row.
const maxEmptyPages = 3

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
	return next, true, nil
}

// walk calls fn for every document of a paginated list, one page in memory
// at a time. An error from fn stops the walk and is returned as is.
func (c *Client) walk(ctx context.Context, path string, query url.Values, fn func(json.RawMessage) error) error {
	limit := int64(c.cfg.PageSize)
	page := int64(1)
	empty := 0
	var prevFirst []byte
	for {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("pagination", "true")
		q.Set("page", strconv.FormatInt(page, 10))
		q.Set("limit", strconv.FormatInt(limit, 10))
		r := &request{method: http.MethodGet, path: path, query: q, idempotent: true}
		resp, err := c.do(ctx, r)
		if err != nil {
			return err
		}
		var pd pageDoc
		if err := json.Unmarshal(resp.body, &pd); err != nil {
			return fmt.Errorf("GET %s: unreadable page: %w", r.display(), c.redactErr(err))
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
		// Trust the server's limit: page numbers count in its page size.
		if pd.Limit.present && pd.Limit.value > 0 {
			limit = pd.Limit.value
		}
		page = next
	}
}
