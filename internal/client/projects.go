package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// "get one project" call). Only an API 404 matches ErrNotFound: a list that
// answers without the project is not proof that it was deleted (a filter the
// server ignores, an eventual-consistency lag), so it is an error that says
// what was asked and what came back.
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
	return nil, &ProjectNotListedError{ID: id, Returned: len(list)}
}

// ProjectNotListedError is a P1 answer to ids=ID that does not hold ID.
type ProjectNotListedError struct {
	ID       string
	Returned int // how many projects the list answered
}

func (e *ProjectNotListedError) Error() string {
	return fmt.Sprintf("GET %s?ids=%s answered %d project(s), none with id %s; "+
		"the API did not say it is gone (no 404), so it is not treated as deleted "+
		"(check that the credentials may see it)", projectsPath, e.ID, e.Returned, e.ID)
}
