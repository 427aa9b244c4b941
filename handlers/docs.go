package handlers

import (
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/julienschmidt/httprouter"
)

// openAPIDocument describes every API route; tests hold it to the code.
//
//go:embed openapi.json
var openAPIDocument []byte

// docsAssets are Swagger UI's and ReDoc's bundles, copied from their npm
// releases by scripts/update-docs-assets.sh and stored gzipped.
//
//go:embed docs
var docsAssets embed.FS

// openAPIFor returns the document with its version set to the build's.
func openAPIFor(version string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	doc["info"].(map[string]any)["version"] = version
	return json.Marshal(doc)
}

// handleOpenAPI serves GET /openapi.json.
func (s *server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(s.openAPI)
	return err
}

const swaggerPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spaceauth API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
</script></body></html>
`

const redocPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spaceauth API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script></body></html>
`

// docsPage serves one of the documentation pages.
func docsPage(page string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, err := io.WriteString(w, page)
		return err
	}
}

// handleDocsAsset serves GET /docs/assets/:file, gzipped when the client
// accepts it (every browser does), unpacked otherwise.
func (s *server) handleDocsAsset(w http.ResponseWriter, r *http.Request) error {
	name := httprouter.ParamsFromContext(r.Context()).ByName("file")
	f, err := docsAssets.Open("docs/" + path.Base(name) + ".gz")
	if err != nil {
		return newError(codeNotFound, "no such file")
	}
	defer f.Close()
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Add("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		_, err = io.Copy(w, f)
		return err
	}
	unpacked, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, unpacked)
	return err
}
