package handlers

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
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

// docsAsset is one file as served, whole and gzipped, with its ETag.
type docsAsset struct {
	contentType string
	plain, gzip []byte
	etag        string
}

// newAsset compresses plain once and names its content for ETag.
func newAsset(contentType string, plain []byte) (docsAsset, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(plain)
	if err := zw.Close(); err != nil {
		return docsAsset{}, err
	}
	sum := sha256.Sum256(plain)
	return docsAsset{contentType: contentType, plain: plain, gzip: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// serve answers with the asset: 304 when the client has it, gzipped when
// the client accepts gzip.
func (a docsAsset) serve(w http.ResponseWriter, r *http.Request, cacheControl string) error {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	h.Add("Vary", "Accept-Encoding")
	if slices.Contains(strings.FieldsFunc(r.Header.Get("If-None-Match"), func(c rune) bool { return c == ',' || c == ' ' }), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", a.contentType)
	body := a.plain
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzip
	}
	_, err := w.Write(body)
	return err
}

// acceptsGzip reads Accept-Encoding with its weights (RFC 9110 §12.5.3):
// gzip;q=0 refuses gzip, and * stands for any coding not named.
func acceptsGzip(r *http.Request) bool {
	star := false
	for _, entry := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(entry), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if parsed, err := strconv.ParseFloat(v, 64); err == nil {
				q = parsed
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
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
		contentType := "text/css; charset=utf-8"
		if path.Ext(name) == ".js" {
			contentType = "text/javascript; charset=utf-8"
		}
		if assets[name], err = newAsset(contentType, plain); err != nil {
			return nil, err
		}
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

// handleOpenAPI serves GET /openapi.json; clients revalidate it with its
// ETag.
func (s *server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	return s.openAPI.serve(w, r, "no-cache")
}

const swaggerPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spaceauth API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
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
	// The URLs carry no version: a day's caching, then a cheap 304.
	return asset.serve(w, r, "public, max-age=86400")
}
