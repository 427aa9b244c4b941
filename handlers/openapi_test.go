package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spec loads openapi.json once, validated, with a router over its paths.
var spec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(context.Background())
})

var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := spec()
	if err != nil {
		return nil, err
	}
	return legacy.NewRouter(doc)
})

// checkAgainstSpec validates a response the handler gave to req against the
// document: status, headers and body. Requests for paths the document does
// not describe (404 tests, docs pages) are skipped.
func checkAgainstSpec(t testing.TB, req *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	router, err := specRouter()
	require.NoError(t, err)
	found, params, err := router.FindRoute(req)
	if err != nil {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: found},
		Status:                 w.Code,
		Header:                 w.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(w.Body.Bytes())
	err = openapi3filter.ValidateResponse(context.Background(), in)
	assert.NoError(t, err, "%s %s -> %d %s", req.Method, req.URL.Path, w.Code, w.Body.String())
}

func TestOpenAPIDocumentDescribesExactlyTheRoutes(t *testing.T) {
	t.Parallel()
	doc, err := spec()
	require.NoError(t, err, "openapi.json is a valid OpenAPI document")
	assert.Equal(t, "3.1.0", doc.OpenAPI)

	var inSpec, inRouter []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			inSpec = append(inSpec, method+" "+path)
			assert.NotNil(t, op.Responses.Default(), "%s %s documents a default problem response", method, path)
		}
	}
	api := newTestAPI(t)
	for _, rt := range api.server.routes() {
		if rt.api {
			segments := strings.Split(rt.path, "/")
			for i, seg := range segments {
				if strings.HasPrefix(seg, ":") {
					segments[i] = "{" + seg[1:] + "}"
				}
			}
			inRouter = append(inRouter, rt.method+" "+strings.Join(segments, "/"))
		}
	}
	sort.Strings(inSpec)
	sort.Strings(inRouter)
	assert.Equal(t, inRouter, inSpec)
}

func TestOpenAPIIsServedWithTheBuildVersion(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, func(c *testConfig) { c.Version = "v1.2.3" })
	w := api.do(request{method: "GET", path: "/openapi.json"})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var doc struct {
		Info  struct{ Version string }
		Paths map[string]any
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	assert.Equal(t, "v1.2.3", doc.Info.Version)
	assert.Contains(t, doc.Paths, "/auth/login")
}

func TestDocsPagesAreServedFromTheBinary(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	for path, want := range map[string]string{"/docs": "swagger-ui-bundle.js", "/redoc": "redoc.standalone.js"} {
		w := api.do(request{method: "GET", path: path})
		require.Equal(t, http.StatusOK, w.Code)
		assert.Contains(t, w.Header().Get("Content-Type"), "text/html")
		assert.Contains(t, w.Body.String(), want)
		assert.NotContains(t, w.Body.String(), "https://", "no CDN")
		csp := w.Header().Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self';", "no inline or foreign script")
		assert.Contains(t, csp, "frame-ancestors 'none'")
		assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"))
		assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"))
		assert.NotRegexp(t, `<script>`, w.Body.String(), "every script has a src, as the policy demands")
	}
	for _, asset := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "swagger-init.js"} {
		gz := api.do(request{method: "GET", path: "/docs/assets/" + asset, headers: map[string]string{"Accept-Encoding": "gzip, br"}})
		require.Equal(t, http.StatusOK, gz.Code, asset)
		assert.Equal(t, "gzip", gz.Header().Get("Content-Encoding"))
		r, err := gzip.NewReader(bytes.NewReader(gz.Body.Bytes()))
		require.NoError(t, err)
		unpacked, err := io.ReadAll(r)
		require.NoError(t, err)
		plain := api.do(request{method: "GET", path: "/docs/assets/" + asset})
		assert.Empty(t, plain.Header().Get("Content-Encoding"))
		assert.Equal(t, unpacked, plain.Body.Bytes(), "clients without gzip get the same bytes")
		assert.NotEmpty(t, unpacked)
	}
	whole := api.do(request{method: "GET", path: "/docs/assets/swagger-ui-bundle.js"}).Body.String()
	parts, err := filepath.Glob("docs/swagger-ui-bundle.js.part*")
	require.NoError(t, err)
	require.Greater(t, len(parts), 1, "the bundle is big enough to come in parts")
	var joined strings.Builder
	for _, part := range parts {
		body, err := os.ReadFile(part)
		require.NoError(t, err)
		joined.Write(body)
	}
	assert.Equal(t, joined.String(), whole, "the parts are joined in order")
	requireProblem(t, api.do(request{method: "GET", path: "/docs/assets/..%2F..%2Fopenapi.json"}), http.StatusNotFound)
	requireProblem(t, api.do(request{method: "GET", path: "/docs/assets/LICENSES.txt"}), http.StatusNotFound)
}
