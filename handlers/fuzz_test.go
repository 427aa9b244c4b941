package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"spaceauth/auth"
)

// Bad inputs every fuzz target starts from.
var hostileJSON = []string{
	`{"email":"a@example.com","password":"correct horse battery staple"}`,
	`{"email":"a@example.com","email":"b@example.com","password":"x"}`,
	"{\"email\":\"\xff\xfe@example.com\",\"password\":\"x\"}",
	`{"email":"a\u0000@example.com","password":"x\u0000y"}`,
	`{"email":42,"password":true}`,
	`{"email":null,"password":null,"name":null}`,
	`{"email":"a@example.com","password":"x"} trailing`,
	`[{"email":"a@example.com"}]`,
	strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200),
	strings.Repeat("[", 5000),
	`{"email":"' OR 1=1 --@example.com","password":"'; DROP TABLE users; --"}`,
	`{"email":"АDMIN@EXAMPLE.COM","password":"ｐａｓｓｗｏｒｄ１２３"}`,
	`{"email":"` + strings.Repeat("a", 5000) + `@example.com","password":"x"}`,
	`{"current_password":"x","new_password":"y","role":"admin"}`,
	`{"name":"\r\nSet-Cookie: x=y","disabled":"true"}`,
	`{"email":"a@example.com","password":"\ud800"}`,
	``, ` `, `null`, `"string"`, `1e999`, `{`, `}`,
}

var jsonRoutes = []struct{ method, path string }{
	{"POST", "/auth/register"}, {"POST", "/auth/login"}, {"PATCH", "/users/me"},
	{"PUT", "/users/me/password"}, {"DELETE", "/users/me"}, {"POST", "/admin/users"},
}

// checkResponse fails on any 5xx or a body that is not JSON.
func checkResponse(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	if w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
		t.Fatalf("status %d with a body that is not JSON: %q", w.Code, w.Body.String())
	}
}

func FuzzJSONBodies(f *testing.F) {
	for i, body := range hostileJSON {
		f.Add(uint8(i), body)
	}
	api := newTestAPI(f)
	var token string
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		api.t = t
		if token == "" {
			token = api.signUp("fuzz@example.com")
			_, err := api.exec("UPDATE users SET role = 'admin'")
			if err != nil {
				t.Fatal(err)
			}
		}
		r := jsonRoutes[int(route)%len(jsonRoutes)]
		w := api.do(request{method: r.method, path: r.path, token: token, body: body})
		checkResponse(t, w)
		if w.Code == http.StatusNoContent && r.path != "/users/me/password" {
			token = "" // the account was deleted; make a new one
		}
	})
}

func FuzzLoginForm(f *testing.F) {
	for _, body := range []string{
		"username=a%40example.com&password=x", "username=a&username=b&password=x", "grant_type=password&username=&password=",
		"username=%ff%fe&password=%00", "username=a%40example.com&password=" + strings.Repeat("p", 70000), "%%%", "&&&==", "",
	} {
		f.Add(body)
	}
	api := newTestAPI(f)
	f.Fuzz(func(t *testing.T, body string) {
		api.t = t
		w := api.do(request{method: "POST", path: "/auth/login", body: body, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
		checkResponse(t, w)
		switch w.Code {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusTooManyRequests:
		default:
			t.Fatalf("unexpected status %d for %q", w.Code, body)
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	valid, _ := auth.NewToken()
	for _, h := range []string{"Bearer " + valid, "bearer " + valid, "Basic dXNlcjpwYXNz", "Bearer", "Bearer  " + valid, "Bearer " + valid + "\r\n",
		"Bearer sa_" + strings.Repeat("A", 43), "Bearer sa_" + strings.Repeat("/", 43), "Bearer sa_" + strings.Repeat("A", 42) + "=", "\x00"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/users/me", nil)
		r.Header.Set("Authorization", header)
		hash, ok := bearerTokenHash(r)
		if !ok {
			return
		}
		if len(hash) != 32 {
			t.Fatalf("hash of %d bytes", len(hash))
		}
		_, token, _ := strings.Cut(header, " ")
		token = strings.TrimSpace(token)
		if len(token) != wantTokenLen || !strings.HasPrefix(token, "sa_") || !utf8.ValidString(token) {
			t.Fatalf("accepted a token of the wrong shape: %q", token)
		}
	})
}

func FuzzCheckJSON(f *testing.F) {
	for _, body := range hostileJSON {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := checkJSON(body); err == nil && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}
