package handlers

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/julienschmidt/httprouter"
)

// openAPIDocument describes every API route; tests hold it to the code.
//
//go:embed openapi.json
var openAPIDocument []byte

// docsFiles are Swagger UI's and ReDoc's bundles, copied from their npm
// releases by scripts/update-docs-assets.sh as text in parts of at most
// 900 KiB: a Hugging Face Space refuses a push that holds a binary file.
//
//go:embed docs
var docsFiles embed.FS

// swaggerInit starts Swagger UI; a file of its own, because the pages'
// Content-Security-Policy allows no inline script.
const swaggerInit = `window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
`

// docsAsset is one file as served, whole and gzipped.
type docsAsset struct {
	contentType string
	plain, gzip []byte
}

// docsAssets joins and compresses the assets on first use, so start-up
// pays nothing for pages most deployments never open.
var docsAssets = sync.OnceValues(func() (map[string]docsAsset, error) {
	sources := map[string][]byte{"swagger-init.js": []byte(swaggerInit)}
	parts, err := fs.Glob(docsFiles, "docs/*.part*")
	if err != nil {
		return nil, err
	}
	for _, part := range parts { // Glob sorts, and the parts are numbered
		body, err := docsFiles.ReadFile(part)
		if err != nil {
			return nil, err
		}
		name, _, _ := strings.Cut(path.Base(part), ".part")
		sources[name] = append(sources[name], body...)
	}
	assets := make(map[string]docsAsset, len(sources))
	for name, plain := range sources {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		zw.Write(plain)
		if err := zw.Close(); err != nil {
			return nil, err
		}
		contentType := "text/css; charset=utf-8"
		if path.Ext(name) == ".js" {
			contentType = "text/javascript; charset=utf-8"
		}
		assets[name] = docsAsset{contentType: contentType, plain: plain, gzip: buf.Bytes()}
	}
	return assets, nil
})

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
<script src="/docs/assets/swagger-init.js"></script>
</body></html>
`

const redocPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spaceauth API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script></body></html>
`

// docsPolicy lets the pages run only the server's own scripts and talk
// only to it. Both UIs set inline styles, Swagger UI draws icons from
// data: URLs and ReDoc searches in a worker made from a blob: URL.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsPage serves one of the documentation pages.
func docsPage(page string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", docsPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		_, err := io.WriteString(w, page)
		return err
	}
}

// handleDocsAsset serves GET /docs/assets/:file, gzipped when the client
// accepts it (every browser does), whole otherwise.
func (s *server) handleDocsAsset(w http.ResponseWriter, r *http.Request) error {
	assets, err := docsAssets()
	if err != nil {
		return err
	}
	asset, ok := assets[httprouter.ParamsFromContext(r.Context()).ByName("file")]
	if !ok {
		return newError(codeNotFound, "no such file")
	}
	h := w.Header()
	h.Set("Content-Type", asset.contentType)
	h.Set("Cache-Control", "public, max-age=86400")
	h.Add("Vary", "Accept-Encoding")
	body := asset.plain
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = asset.gzip
	}
	_, err = w.Write(body)
	return err
}
