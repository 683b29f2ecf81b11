package change

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"testing"
)

// node is a JSON value that keeps object key order and number literals, so
// that golden comparisons see what a consumer (or an Avro converter) sees.
type node struct {
	kind string // "object", "array", "string", "number", "bool", "null"
	keys []string
	vals []*node
	s    string // string value, number literal, "true"/"false"
}

func parseOrdered(t testing.TB, b []byte) *node {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		t.Fatalf("parse %q: %v", truncate(b), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("trailing data after JSON value in %q", truncate(b))
	}
	return n
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			n := &node{kind: "object"}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				val, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, kt.(string))
				n.vals = append(n.vals, val)
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &node{kind: "array"}
			for dec.More() {
				val, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, val)
			}
			_, err := dec.Token()
			return n, err
		}
	case string:
		return &node{kind: "string", s: v}, nil
	case json.Number:
		return &node{kind: "number", s: string(v)}, nil
	case bool:
		return &node{kind: "bool", s: strconv.FormatBool(v)}, nil
	case nil:
		return &node{kind: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func (n *node) String() string {
	switch n.kind {
	case "string":
		return strconv.Quote(n.s)
	case "null":
		return "null"
	case "object":
		return fmt.Sprintf("object with keys %q", n.keys)
	case "array":
		return fmt.Sprintf("array of %d", len(n.vals))
	}
	return n.s
}

// diffNodes returns a description of the first difference between got and
// want, naming its path ("" if equal). Object keys must appear in the same
// order; numbers must be the same literal (1.0E7 is not 10000000.0).
func diffNodes(path string, got, want *node) string {
	if got.kind != want.kind {
		return fmt.Sprintf("%s: got %s, want %s", path, got, want)
	}
	switch got.kind {
	case "object":
		for i := 0; i < len(got.keys) || i < len(want.keys); i++ {
			switch {
			case i >= len(got.keys):
				return fmt.Sprintf("%s: missing key %q (want keys %q, got %q)", path, want.keys[i], want.keys, got.keys)
			case i >= len(want.keys):
				return fmt.Sprintf("%s: unexpected key %q (want keys %q, got %q)", path, got.keys[i], want.keys, got.keys)
			case got.keys[i] != want.keys[i]:
				return fmt.Sprintf("%s: key #%d is %q, want %q (key order: got %q, want %q)", path, i, got.keys[i], want.keys[i], got.keys, want.keys)
			}
			if d := diffNodes(path+"."+got.keys[i], got.vals[i], want.vals[i]); d != "" {
				return d
			}
		}
	case "array":
		for i := 0; i < len(got.vals) || i < len(want.vals); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(got.vals):
				return fmt.Sprintf("%s: missing element %s", p, want.vals[i])
			case i >= len(want.vals):
				return fmt.Sprintf("%s: unexpected element %s", p, got.vals[i])
			}
			if d := diffNodes(p, got.vals[i], want.vals[i]); d != "" {
				return d
			}
		}
	default:
		if got.s != want.s {
			return fmt.Sprintf("%s: got %s, want %s", path, got, want)
		}
	}
	return ""
}

// assertJSON compares got with the golden JSON want: first structurally,
// naming the path of the first difference (key order included), then byte
// for byte against the compacted golden.
func assertJSON(t testing.TB, name string, got, want []byte) {
	t.Helper()
	if d := diffNodes("$", parseOrdered(t, got), parseOrdered(t, want)); d != "" {
		t.Fatalf("%s: %s", name, d)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, compact.Bytes()) {
		i := 0
		for i < len(got) && i < compact.Len() && got[i] == compact.Bytes()[i] {
			i++
		}
		t.Fatalf("%s: bytes differ at offset %d:\n got %q\nwant %q", name, i, tail(got, i), tail(compact.Bytes(), i))
	}
}

func tail(b []byte, i int) string {
	lo := max(0, i-40)
	hi := min(len(b), i+40)
	return string(b[lo:hi])
}

func TestDiffNodesNamesPath(t *testing.T) {
	a := parseOrdered(t, []byte(`{"a":{"b":[1,{"c":1.0E7}]},"d":2}`))
	b := parseOrdered(t, []byte(`{"a":{"b":[1,{"c":10000000.0}]},"d":2}`))
	if d := diffNodes("$", a, b); d != `$.a.b[1].c: got 1.0E7, want 10000000.0` {
		t.Fatalf("diff = %q", d)
	}
	c := parseOrdered(t, []byte(`{"d":2,"a":{"b":[1,{"c":1.0E7}]}}`))
	if d := diffNodes("$", c, a); d == "" {
		t.Fatal("key order difference not reported")
	}
}
