package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// SeedFile is the standalone program's -seed-file format (see the package documentation).
type SeedFile struct {
	Projects []SeedProject `json:"projects"`
}

// SeedProject is one project of a SeedFile.
type SeedProject struct {
	Name       string      `json:"name"`
	Status     string      `json:"status,omitempty"`      // default "pending"
	Type       string      `json:"type,omitempty"`        // default "form"
	Forbidden  bool        `json:"forbidden,omitempty"`   // API calls touching it get 403
	Batches    []SeedBatch `json:"batches,omitempty"`     // created in this order
	BatchCount int         `json:"batch_count,omitempty"` // then this many more, named "batch-N"
}

// SeedBatch is one batch of a SeedProject.
type SeedBatch struct {
	Name           string `json:"name"`
	Status         string `json:"status,omitempty"`           // default "pending"
	SameWorkflowAs string `json:"same_workflow_as,omitempty"` // name of an earlier batch of the project whose workflow it shares
	Forbidden      bool   `json:"forbidden,omitempty"`
	NoWorkflow     bool   `json:"no_workflow,omitempty"` // the batch has no workflow (exclusive with same_workflow_as)
}

// Contract values (project statuses and types, internal/client/CONTRACT.md).
var (
	ProjectStatuses = []string{"configuring", "pending", "complete", "toBeDeleted", "deleted", "archived"}
	ProjectTypes    = []string{"form", "iat-rectangle", "iat-polygon", "iat-segmentation", "iat-graph", "iat-polyline"}
)

// maxSeedBatches bounds a seed so a typo cannot exhaust memory.
const maxSeedBatches = 1_000_000

// ParseSeed decodes and validates a seed file; unknown fields are refused.
func ParseSeed(data []byte) (SeedFile, error) {
	var s SeedFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return SeedFile{}, fmt.Errorf("seed file: %w", err)
	}
	if dec.More() {
		return SeedFile{}, errors.New("seed file: trailing data after the JSON object")
	}
	return s, s.Validate()
}

// Validate checks names, statuses, types and same_workflow_as references.
func (s SeedFile) Validate() error {
	total := 0
	for i, p := range s.Projects {
		where := fmt.Sprintf("seed file: projects[%d]", i)
		if p.Name == "" {
			return fmt.Errorf("%s: name is required", where)
		}
		if p.Status != "" && !slices.Contains(ProjectStatuses, p.Status) {
			return fmt.Errorf("%s: status %q is not one of %v", where, p.Status, ProjectStatuses)
		}
		if p.Type != "" && !slices.Contains(ProjectTypes, p.Type) {
			return fmt.Errorf("%s: type %q is not one of %v", where, p.Type, ProjectTypes)
		}
		if p.BatchCount < 0 {
			return fmt.Errorf("%s: batch_count must be >= 0, got %d", where, p.BatchCount)
		}
		// seen: earlier batch names; true when the first batch of that name has a workflow
		// (ApplySeed shares the first one's).
		seen := map[string]bool{}
		for j, b := range p.Batches {
			if b.Name == "" {
				return fmt.Errorf("%s.batches[%d]: name is required", where, j)
			}
			if b.NoWorkflow && b.SameWorkflowAs != "" {
				return fmt.Errorf("%s.batches[%d]: no_workflow and same_workflow_as are exclusive", where, j)
			}
			if b.SameWorkflowAs != "" {
				hasWF, ok := seen[b.SameWorkflowAs]
				if !ok {
					return fmt.Errorf("%s.batches[%d]: same_workflow_as %q names no earlier batch of the project", where, j, b.SameWorkflowAs)
				}
				if !hasWF {
					return fmt.Errorf("%s.batches[%d]: same_workflow_as %q names a batch without a workflow", where, j, b.SameWorkflowAs)
				}
			}
			if _, dup := seen[b.Name]; !dup {
				seen[b.Name] = !b.NoWorkflow
			}
		}
		total += len(p.Batches) + p.BatchCount
		if total > maxSeedBatches {
			return fmt.Errorf("seed file: more than %d batches", maxSeedBatches)
		}
	}
	return nil
}

// ApplySeed creates the seed's projects and batches, in file order, ids from the shared counter.
// Nothing is created when the seed is invalid.
func (e *Emulator) ApplySeed(s SeedFile) error {
	if err := s.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sp := range s.Projects {
		p := e.addProjectLocked(sp.Name, orDefault(sp.Status, "pending"), orDefault(sp.Type, "form"))
		if sp.Forbidden {
			e.forbidden[p.id] = struct{}{}
		}
		byName := map[string]*batch{}
		for _, sb := range sp.Batches {
			var b *batch
			switch {
			case sb.NoWorkflow:
				b = e.addBatchNoWorkflowLocked(p, sb.Name)
			case sb.SameWorkflowAs != "":
				b = e.addBatchLocked(p, sb.Name, byName[sb.SameWorkflowAs].workflow)
			default:
				b = e.addBatchLocked(p, sb.Name, nil)
			}
			b.status = orDefault(sb.Status, "pending")
			if sb.Forbidden {
				e.forbidden[b.id] = struct{}{}
			}
			if _, dup := byName[sb.Name]; !dup {
				byName[sb.Name] = b
			}
		}
		for i := range sp.BatchCount {
			e.addBatchLocked(p, fmt.Sprintf("batch-%d", len(sp.Batches)+i+1), nil)
		}
	}
	return nil
}

// GenerateSeed is the seed of the standalone program's -projects/-batches flags: projects named
// "project-N", each with batches named "batch-N".
func GenerateSeed(projects, batchesPerProject int) SeedFile {
	s := SeedFile{Projects: make([]SeedProject, projects)}
	for i := range s.Projects {
		s.Projects[i] = SeedProject{Name: fmt.Sprintf("project-%d", i+1), BatchCount: batchesPerProject}
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
