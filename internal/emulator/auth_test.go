package emulator_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/isahit/terraform-provider-isahitlab/internal/emulator"
)

func TestLoginFormAnswers201(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	status, b := a.loginForm(emulator.DefaultAccessID, emulator.DefaultSecretKey)
	if status != http.StatusCreated {
		t.Fatalf("status %d, want 201; body %s", status, b)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	mustJSON(t, b, &tok)
	if tok.AccessToken == "" || tok.ExpiresIn != 3600 {
		t.Fatalf("login answer %s: want a token and expires_in 3600", b)
	}
}

func TestLoginRefusesJSONAndBadCredentials(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{AccessID: "id", SecretKey: "key"})
	// JSON body, even with the right credentials: 400.
	resp, err := a.hc.Post(a.base()+"api/user-manager/auth/login", "application/json",
		strings.NewReader(`{"access_id":"id","secret_key":"key"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("JSON login: status %d, want 400", resp.StatusCode)
	}
	if status, b := a.loginForm("id", "wrong"); status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: status %d, want 401; %s", status, b)
	}
	if status, _ := a.loginForm("other", "key"); status != http.StatusUnauthorized {
		t.Fatalf("wrong id: status %d, want 401", status)
	}
	if status, _ := a.loginForm("id", ""); status != http.StatusBadRequest {
		t.Fatalf("missing secret: status %d, want 400", status)
	}
	if status, _ := a.loginForm("id", "key"); status != http.StatusCreated {
		t.Fatalf("right credentials: status %d, want 201", status)
	}
	// Login takes no query-string credentials.
	resp, err = a.hc.Post(a.base()+"api/user-manager/auth/login?access_id=id&secret_key=key", "application/x-www-form-urlencoded", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("query credentials: status %d, want 400", resp.StatusCode)
	}
	c := a.e.Calls()
	if c["A1"] != 6 || c["401"] != 2 {
		t.Fatalf("calls %v: want A1=6, 401=2", c)
	}
}

func TestBearerRequiredAndTokensExpire(t *testing.T) {
	// Not parallel: two requests must fit in a 150 ms token lifetime, too tight
	// beside other tests.
	a := newAPI(t, emulator.Options{TokenTTL: 150 * time.Millisecond})
	p := a.e.AddProject("p")
	path := "api/project-manager/projects?pagination=true&ids=" + p

	if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
		t.Fatalf("no token: status %d, want 401", status)
	}
	a.token = "not-a-token"
	if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
		t.Fatalf("unknown token: status %d, want 401", status)
	}
	status, b := a.loginForm(emulator.DefaultAccessID, emulator.DefaultSecretKey)
	if status != http.StatusCreated || !strings.Contains(string(b), `"expires_in":1`) {
		t.Fatalf("sub-second TTL: login %d %s, want expires_in 1", status, b)
	}
	a.login()
	a.get(path, nil)
	// A token sent with another scheme is not a Bearer token.
	req, _ := http.NewRequest(http.MethodGet, a.base()+path, nil)
	req.Header.Set("Authorization", "Token "+a.token)
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("non-Bearer scheme: status %d, want 401", resp.StatusCode)
	}
	time.Sleep(200 * time.Millisecond)
	if status, _, b := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
		t.Fatalf("expired token: status %d, want 401; %s", status, b)
	}
	a.e.SetTokenTTL(time.Hour)
	a.login()
	a.get(path, nil)
	a.e.ExpireTokens()
	if status, _, _ := a.do(http.MethodGet, path, nil); status != http.StatusUnauthorized {
		t.Fatalf("after ExpireTokens: status %d, want 401", status)
	}
	if got := a.e.Calls()["401"]; got != 5 {
		t.Fatalf("401 count %d, want 5", got)
	}
}

func TestUnknownRoutesAre404(t *testing.T) {
	t.Parallel()
	a := newAPI(t, emulator.Options{})
	a.login()
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "api/user-manager/auth/login"},
		{http.MethodPut, "api/task-manager/batches"},
		{http.MethodGet, "api/nothing"},
		{http.MethodGet, "/api/task-manager/batches"}, // "base/" + "/api": a doubled slash is not the route
		{http.MethodGet, "api/task-manager/batches/a/b"},
	} {
		status, _, b := a.do(c.method, c.path, nil)
		if status != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404; %s", c.method, c.path, status, b)
		}
	}
	if got := a.e.Calls()["other"]; got != 5 {
		t.Fatalf("other count %d, want 5", got)
	}
}
