package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

const (
	maxBodyBytes = 64 << 10
	maxJSONDepth = 16
)

// writeJSON sends v with status. Content-Type defaults to JSON; writeError
// sets the problem type before calling it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the status is sent; a failed write means the client left
}

func hasMediaType(r *http.Request, want string) bool {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == want
}

// readBody reads at most maxBodyBytes of the request body, which must not
// be compressed: RFC 7694 answers a coding the server does not decode with
// 415 and the codings it does in Accept-Encoding.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if coding := r.Header.Get("Content-Encoding"); coding != "" && !strings.EqualFold(coding, "identity") {
		w.Header().Set("Accept-Encoding", "identity")
		return nil, newError(codeUnsupportedMedia, "request bodies must not be compressed (Content-Encoding: %s); send them as they are", coding)
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
}

// decode reads a JSON object into a new T. It is stricter than
// encoding/json: invalid UTF-8, duplicate keys, deep nesting, trailing data
// and unknown fields are all refused with a 400 naming the problem.
func decode[T any](w http.ResponseWriter, r *http.Request) (T, error) {
	var v T
	if !hasMediaType(r, "application/json") {
		return v, newError(codeUnsupportedMedia, "the request body must be JSON, sent with Content-Type: application/json")
	}
	body, err := readBody(w, r)
	if err != nil {
		return v, err
	}
	keys, err := checkJSON(body)
	if err != nil {
		return v, newError(codeBadRequest, "malformed JSON: %v", err)
	}
	// encoding/json matches names in any case, so {"disabled":false,
	// "Disabled":true} would pass the duplicate check and set the field twice.
	fields := jsonFieldNames(reflect.TypeFor[T]())
	for _, key := range keys {
		if !slices.Contains(fields, key) {
			return v, newError(codeBadRequest, "unknown field %q (field names are case-sensitive)", key)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return v, newError(codeBadRequest, "field %q must be %s", typeErr.Field, jsonTypeName(typeErr.Type.String()))
		}
		// DisallowUnknownFields reports `json: unknown field "x"`.
		return v, newError(codeBadRequest, "%s", bytes.TrimPrefix([]byte(err.Error()), []byte("json: ")))
	}
	return v, nil
}

func jsonTypeName(goType string) string {
	switch goType {
	case "string", "*string":
		return "a string"
	case "bool", "*bool":
		return "true or false"
	default:
		return "a number"
	}
}

// jsonFieldNames lists the JSON names of a struct's fields.
func jsonFieldNames(t reflect.Type) []string {
	names := make([]string, 0, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// checkJSON verifies that body is exactly one JSON object, valid UTF-8,
// without duplicate keys and nested at most maxJSONDepth deep, and returns
// the object's keys.
func checkJSON(body []byte) (keys []string, err error) {
	if !utf8.Valid(body) {
		return nil, errors.New("the body is not valid UTF-8")
	}
	type frame struct {
		keys    map[string]bool // nil for an array
		wantKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) && len(stack) == 0 {
			return nil, errors.New("the body is empty")
		}
		if err != nil {
			return nil, err
		}
		if len(stack) == 0 && tok != json.Delim('{') {
			return nil, errors.New("the body must be a JSON object")
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxJSONDepth {
				return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
			}
			f := &frame{}
			if tok == json.Delim('{') {
				f.keys, f.wantKey = map[string]bool{}, true
			}
			stack = append(stack, f)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				if _, err := dec.Token(); !errors.Is(err, io.EOF) {
					return nil, errors.New("unexpected data after the object")
				}
				return keys, nil
			}
			top = stack[len(stack)-1]
			top.wantKey = top.keys != nil
		default:
			if top.wantKey {
				key := tok.(string) // the decoder only yields strings in key position
				if top.keys[key] {
					return nil, fmt.Errorf("duplicate key %q", key)
				}
				top.keys[key] = true
				if len(stack) == 1 {
					keys = append(keys, key)
				}
				top.wantKey = false
			} else {
				top.wantKey = top.keys != nil
			}
		}
	}
}
