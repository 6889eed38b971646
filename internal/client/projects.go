package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

const projectsPath = "api/project-manager/projects"

// ListProjects returns every project matching f (P1, all pages).
func (c *Client) ListProjects(ctx context.Context, f ProjectFilter) ([]Project, error) {
	q := url.Values{}
	for _, v := range f.IDs {
		q.Add("ids", v)
	}
	for _, v := range f.Statuses {
		q.Add("statuses", v)
	}
	for _, v := range f.Types {
		q.Add("types", v)
	}
	if f.Search != "" {
		q.Set("search", f.Search)
	}
	var out []Project
	err := c.walk(ctx, projectsPath, q, func(raw json.RawMessage) error {
		var d projectDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("GET %s: unreadable project document: %w", projectsPath, c.redactErr(err))
		}
		out = append(out, d.project())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetProject reads one project through P1 with ids=id (the API has no
// "get one project" call). No such project gives an *APIError matching
// ErrNotFound.
func (c *Client) GetProject(ctx context.Context, id string) (*Project, error) {
	if id == "" {
		return nil, errors.New("GetProject: empty project id")
	}
	list, err := c.ListProjects(ctx, ProjectFilter{IDs: []string{id}})
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, &APIError{
		StatusCode: http.StatusNotFound,
		Method:     http.MethodGet,
		Path:       projectsPath + "?" + url.Values{"ids": {id}}.Encode(),
		Message:    fmt.Sprintf("no project with id %q", id),
	}
}
