package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestDeterministicIDs(t *testing.T) {
	t.Parallel()
	e := emulator.New(emulator.Options{})
	p := e.AddProject("p")
	b := e.AddBatch(p, "b")
	info, _ := e.Batch(b)
	got := []string{p, b, info.WorkflowID}
	want := []string{"6650c1f2a9b4000000000001", "6650c1f2a9b4000000000002", "6650c1f2a9b4000000000003"}
	if !slices.Equal(got, want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
	if info.Status != "pending" || info.ProjectID != p || info.Name != "b" {
		t.Fatalf("batch %+v", info)
	}
	if e.AddBatch("6650c1f2a9b4ffffffffffff", "x") != "" {
		t.Fatal("AddBatch on an unknown project must return \"\"")
	}
}

func TestPaginationCapAndNextPageWalk(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{PageCap: 25})
	p := a.e.AddProject("p")
	for i := range 60 {
		a.e.AddBatch(p, fmt.Sprintf("b%d", i))
	}
	a.login()

	var walked []string
	next := 1
	for n := 0; ; n++ {
		if n > 10 {
			t.Fatal("pagination does not end")
		}
		var pg page
		raw := a.get(fmt.Sprintf("api/task-manager/batches?pagination=true&page=%d&limit=100&projectId=%s", next, p), &pg)
		if pg.Limit != 25 || pg.TotalDocs != 60 || pg.TotalPages != 3 || pg.Page != next {
			t.Fatalf("page %d: %+v", next, pg)
		}
		if pg.PagingCounter != (next-1)*25+1 {
			t.Fatalf("page %d: pagingCounter %d", next, pg.PagingCounter)
		}
		if next == 1 && (pg.HasPrevPage || pg.PrevPage != nil || !strings.Contains(string(raw), `"prevPage":null`)) {
			t.Fatalf("first page must have prevPage null: %s", raw)
		}
		if next > 1 && (pg.PrevPage == nil || *pg.PrevPage != next-1) {
			t.Fatalf("page %d: prevPage %v", next, pg.PrevPage)
		}
		walked = append(walked, ids(pg.Docs)...)
		if !pg.HasNextPage {
			if pg.NextPage != nil || !strings.Contains(string(raw), `"nextPage":null`) {
				t.Fatalf("last page must have nextPage null: %s", raw[len(raw)-80:])
			}
			break
		}
		next = *pg.NextPage
	}
	if !slices.Equal(walked, a.e.ProjectBatches(p)) {
		t.Fatalf("walked %d ids, not the project's batches in creation order", len(walked))
	}

	// Past the end: empty docs (an array, not null), no next page.
	var pg page
	raw := a.get("api/task-manager/batches?pagination=true&page=9&limit=25&projectId="+p, &pg)
	if len(pg.Docs) != 0 || pg.HasNextPage || !strings.Contains(string(raw), `"docs":[]`) {
		t.Fatalf("page past the end: %s", raw)
	}
	// Default limit is 10; a smaller cap set later applies at once.
	a.get("api/task-manager/batches?pagination=true&projectId="+p, &pg)
	if pg.Limit != 10 || len(pg.Docs) != 10 || pg.TotalPages != 6 {
		t.Fatalf("default limit: %+v", pg)
	}
	a.e.SetPageCap(7)
	a.get("api/task-manager/batches?pagination=true&limit=100&projectId="+p, &pg)
	if pg.Limit != 7 || len(pg.Docs) != 7 {
		t.Fatalf("cap 7: limit %d, %d docs", pg.Limit, len(pg.Docs))
	}
	for _, q := range []string{"page=0", "limit=0", "limit=x", "page=-1"} {
		status, _, b := a.do(http.MethodGet, "api/task-manager/batches?pagination=true&projectId="+p+"&"+q, nil)
		if status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; %s", q, status, b)
		}
	}
}

func TestEmptyProjectPage(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	a.login()
	var pg page
	a.get("api/task-manager/batches?pagination=true&page=1&limit=10&projectId=6650c1f2a9b4000000000abc", &pg)
	if pg.TotalDocs != 0 || pg.TotalPages != 1 || pg.HasNextPage || pg.HasPrevPage || pg.Docs == nil {
		t.Fatalf("unknown project: %+v", pg)
	}
	status, _, b := a.do(http.MethodGet, "api/task-manager/batches?pagination=true", nil)
	if status != http.StatusBadRequest || !strings.Contains(errMessage(t, b), "projectId") {
		t.Fatalf("no projectId: %d %s", status, b)
	}
}

func TestListWithAndWithoutWorkflow(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{ListOmitsWorkflow: true})
	p := a.e.AddProject("p")
	b := a.e.AddBatch(p, "b")
	a.e.SetBatchDataset(b, "6650c1f2a9b4000000000fff")
	info, _ := a.e.Batch(b)
	a.login()

	var pg page
	a.get("api/task-manager/batches?pagination=true&projectId="+p, &pg)
	if _, ok := pg.Docs[0]["workflow"]; ok {
		t.Fatalf("ListOmitsWorkflow: doc has workflow: %v", pg.Docs[0])
	}
	// B1 always carries it.
	var doc map[string]any
	a.get("api/task-manager/batches/"+b, &doc)
	if wf, _ := doc["workflow"].(map[string]any); wf["id"] != info.WorkflowID {
		t.Fatalf("B1 workflow: %v", doc)
	}
	if ds, _ := doc["dataset"].(map[string]any); ds["id"] != "6650c1f2a9b4000000000fff" {
		t.Fatalf("B1 dataset: %v", doc)
	}
	if doc["_id"] != b || doc["name"] != "b" || doc["projectId"] != p || doc["status"] != "pending" {
		t.Fatalf("B1 doc: %v", doc)
	}

	a.e.SetListOmitsWorkflow(false)
	a.get("api/task-manager/batches?pagination=true&projectId="+p, &pg)
	if wf, _ := pg.Docs[0]["workflow"].(map[string]any); wf["id"] != info.WorkflowID {
		t.Fatalf("list doc without workflow id: %v", pg.Docs[0])
	}
	a.e.SetBatchDataset(b, "")
	a.get("api/task-manager/batches?pagination=true&projectId="+p, &pg)
	if v, ok := pg.Docs[0]["dataset"]; !ok || v != nil {
		t.Fatalf("dataset must be present and null: %v", pg.Docs[0])
	}
}

func TestBatchFilters(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	var bs []string
	for i := range 9 {
		bs = append(bs, a.e.AddBatch(p, fmt.Sprintf("Week-%d", i)))
	}
	a.e.SetBatchStatus(bs[1], "completed")
	a.e.SetBatchStatus(bs[2], "in-progress")
	a.e.SetBatchStatus(bs[5], "completed")
	a.login()
	list := func(q string) page {
		t.Helper()
		var pg page
		a.get("api/task-manager/batches?pagination=true&projectId="+p+"&"+q, &pg)
		return pg
	}
	if got := ids(list("statuses=completed&statuses=in-progress").Docs); !slices.Equal(got, []string{bs[1], bs[2], bs[5]}) {
		t.Fatalf("repeated statuses: %v", got)
	}
	// A comma-joined value is one (unknown) status, not two.
	if pg := list("statuses=completed,in-progress"); pg.TotalDocs != 0 {
		t.Fatalf("comma-joined statuses matched %d", pg.TotalDocs)
	}
	if got := ids(list("search=week-3").Docs); !slices.Equal(got, []string{bs[3]}) {
		t.Fatalf("search: %v", got)
	}
	// Filtered pages are windows of the matches.
	pg := list("statuses=pending&limit=2&page=3")
	if pg.TotalDocs != 6 || pg.TotalPages != 3 || !slices.Equal(ids(pg.Docs), []string{bs[7], bs[8]}) || pg.HasNextPage {
		t.Fatalf("filtered page 3: %+v", pg)
	}
}

func TestProjectsFilters(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p1 := a.e.AddProject("Cats")
	p2 := a.e.AddProject("Dogs")
	p3 := a.e.AddProject("Cat food")
	a.e.SetProjectType(p2, "iat-polygon")
	a.e.SetProjectStatus(p3, "archived")
	a.login()
	list := func(q string) []string {
		t.Helper()
		var pg page
		a.get("api/project-manager/projects?pagination=true&"+q, &pg)
		return ids(pg.Docs)
	}
	if got := list("ids=" + p2); !slices.Equal(got, []string{p2}) {
		t.Fatalf("ids: %v", got)
	}
	if got := list("ids=" + p1 + "&ids=" + p3); !slices.Equal(got, []string{p1, p3}) {
		t.Fatalf("repeated ids: %v", got)
	}
	if got := list("ids=" + p1 + "," + p3); len(got) != 0 {
		t.Fatalf("comma-joined ids matched %v", got)
	}
	if got := list("types=iat-polygon&types=form&statuses=pending"); !slices.Equal(got, []string{p1, p2}) {
		t.Fatalf("types+statuses: %v", got)
	}
	if got := list("search=cat"); !slices.Equal(got, []string{p1, p3}) {
		t.Fatalf("search: %v", got)
	}
	if got := list("ids=6650c1f2a9b4000000000abc"); len(got) != 0 {
		t.Fatalf("unknown id: %v", got)
	}
	var pg page
	a.get("api/project-manager/projects?pagination=true&ids="+p3, &pg)
	d := pg.Docs[0]
	if d["_id"] != p3 || d["name"] != "Cat food" || d["status"] != "archived" || d["type"] != "form" {
		t.Fatalf("project doc %v", d)
	}
}

func TestCreateAndDeleteBatch(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	p := a.e.AddProject("p")
	a.login()
	status, _, b := a.do(http.MethodPost, "api/task-manager/batches", map[string]string{"name": "new", "projectId": p})
	if status != http.StatusCreated {
		t.Fatalf("B4: %d %s", status, b)
	}
	var doc map[string]any
	mustJSON(t, b, &doc)
	id, _ := doc["_id"].(string)
	wf, _ := doc["workflow"].(map[string]any)
	if info, ok := a.e.Batch(id); !ok || info.WorkflowID != wf["id"] || doc["projectId"] != p || doc["status"] != "pending" {
		t.Fatalf("created %v / %+v", doc, info)
	}
	for _, c := range []struct {
		body any
		want int
	}{
		{map[string]string{"name": "x"}, http.StatusBadRequest},
		{map[string]string{"projectId": p}, http.StatusBadRequest},
		{`{"name": 3, "projectId": "` + p + `"}`, http.StatusBadRequest},
		{map[string]string{"name": "x", "projectId": "6650c1f2a9b4000000000abc"}, http.StatusNotFound},
	} {
		if status, _, b := a.do(http.MethodPost, "api/task-manager/batches", c.body); status != c.want {
			t.Errorf("B4 %v: %d, want %d; %s", c.body, status, c.want, b)
		}
	}
	if status, _, b := a.do(http.MethodDelete, "api/task-manager/batches/"+id, nil); status != http.StatusOK {
		t.Fatalf("B6: %d %s", status, b)
	}
	if status, _, _ := a.do(http.MethodGet, "api/task-manager/batches/"+id, nil); status != http.StatusNotFound {
		t.Fatalf("B1 after delete: %d, want 404", status)
	}
	if status, _, _ := a.do(http.MethodDelete, "api/task-manager/batches/"+id, nil); status != http.StatusNotFound {
		t.Fatalf("B6 twice: %d, want 404", status)
	}
	if len(a.e.ProjectBatches(p)) != 0 {
		t.Fatal("deleted batch still listed")
	}
	// Its workflow stays readable.
	a.get("api/workflow-manager/workflows/"+fmt.Sprint(wf["id"]), nil)
}

func TestDeleteKeepsOrder(t *testing.T) {
	t.Parallel()
	e := emulator.New(emulator.Options{})
	p := e.AddProject("p")
	var bs []string
	for i := range 6 {
		bs = append(bs, e.AddBatch(p, fmt.Sprint(i)))
	}
	e.DeleteBatch(bs[0])
	e.DeleteBatch(bs[3])
	e.DeleteBatch(bs[5])
	e.DeleteBatch("nope")
	if got := e.ProjectBatches(p); !slices.Equal(got, []string{bs[1], bs[2], bs[4]}) {
		t.Fatalf("after deletes: %v", got)
	}
}
