package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads, decodes, defaults and validates the configuration file at
// path. Problems in the file are reported together as Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes, defaults and validates a configuration read from filename
// (used in error messages and as the base of relative ${file:...} paths).
// On failure it returns Errors listing every problem found, sorted by line.
func Parse(filename string, data []byte) (*Config, error) {
	return parse(filename, data, newInterpolator(filename))
}

// maxNodes bounds the work done on a document, aliases expanded, so that an
// "alias bomb" cannot stall the decoder.
const maxNodes = 200_000

func parse(filename string, data []byte, ip *interpolator) (*Config, error) {
	m := newMeta(filename)
	c := &Config{meta: m}
	root, errs := readDocument(filename, data)
	if len(errs) > 0 {
		return nil, errs.errOrNil()
	}
	d := &decoder{m: m, ip: ip, budget: maxNodes}
	if root != nil {
		if rn, ok := d.resolve(root); ok && !isNull(rn) {
			m.vals[""] = posOf(rn)
			if rn.Kind != yaml.MappingNode {
				d.errorf(rn, "", "expected a mapping at the top level, got %s", kindName(rn))
			} else {
				d.decodeStruct(rn, reflect.ValueOf(c).Elem(), "")
			}
		}
	}
	errs = d.errs
	if !d.exhausted {
		c.ApplyDefaults()
		errs = append(errs, c.validate()...)
	}
	if err := errs.errOrNil(); err != nil {
		return nil, err
	}
	return c, nil
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readDocument parses data into a node tree, returning the document's root
// (nil for an empty file).
func readDocument(filename string, data []byte) (*yaml.Node, Errors) {
	syntaxErr := func(err error) Errors {
		e := &Error{File: filename, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if mm := yamlLineErr.FindStringSubmatch(err.Error()); mm != nil {
			e.Line, _ = strconv.Atoi(mm[1])
			e.Msg = mm[2]
		}
		return Errors{e}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxErr(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, Errors{{File: filename, Line: extra.Line, Column: extra.Column,
			Msg: "the file holds more than one YAML document; put everything in one"}}
	case !errors.Is(err, io.EOF):
		return nil, syntaxErr(err)
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

// position is a 1-based line and column.
type position struct{ line, col int }

func posOf(n *yaml.Node) position { return position{n.Line, n.Column} }

// meta records, per dotted path, where keys and values were written, which
// keys were given a value, and which could not be decoded.
type meta struct {
	file string
	keys map[string]position // key nodes (or sequence items)
	vals map[string]position // value nodes
	set  map[string]bool     // given a non-null, non-empty value
	bad  map[string]bool     // value could not be decoded
}

func newMeta(file string) *meta {
	return &meta{file: file, keys: map[string]position{}, vals: map[string]position{},
		set: map[string]bool{}, bad: map[string]bool{}}
}

// isSet reports whether the key at path was given a value. Nil-safe.
func (m *meta) isSet(path string) bool { return m != nil && m.set[path] }

// hasKey reports whether the key at path was written at all. Nil-safe.
func (m *meta) hasKey(path string) bool {
	if m == nil {
		return false
	}
	_, ok := m.keys[path]
	return ok
}

// isBad reports whether path or one of its ancestors failed to decode.
func (m *meta) isBad(path string) bool {
	if m == nil {
		return false
	}
	for p := path; ; p = parentPath(p) {
		if m.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// valPos is where the value at path (or its nearest recorded ancestor) was
// written.
func (m *meta) valPos(path string) position {
	if m == nil {
		return position{}
	}
	for p := path; ; p = parentPath(p) {
		if pos, ok := m.vals[p]; ok {
			return pos
		}
		if pos, ok := m.keys[p]; ok {
			return pos
		}
		if p == "" {
			return position{}
		}
	}
}

// keyPos is where the key at path was written, else valPos.
func (m *meta) keyPos(path string) position {
	if m != nil {
		if pos, ok := m.keys[path]; ok {
			return pos
		}
	}
	return m.valPos(path)
}

func (m *meta) fileName() string {
	if m == nil {
		return ""
	}
	return m.file
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func mapKeyPath(path, key string) string { return fmt.Sprintf("%s[%q]", path, key) }

// parentPath strips the last element of a dotted path. Dotted key names
// ("heartbeat.interval") yield non-existent intermediate paths, which
// lookups simply skip.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return quoteValue(n.Value)
	}
	return "nothing"
}

// decoder walks a yaml.Node tree against the Go types, interpolating scalar
// values, recording positions and collecting every error.
type decoder struct {
	m         *meta
	ip        *interpolator
	errs      Errors
	budget    int
	exhausted bool
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: d.m.file, Key: path, Msg: sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
	d.m.bad[path] = true
}

// resolve follows aliases and charges the node budget; false means the
// budget is spent and decoding must stop.
func (d *decoder) resolve(n *yaml.Node) (*yaml.Node, bool) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.budget--; d.budget < 0 {
		if !d.exhausted {
			d.exhausted = true
			d.errorf(n, "", "document too large after expanding aliases")
		}
		return nil, false
	}
	return n, true
}

type pair struct{ key, val *yaml.Node }

// pairs lists a mapping's entries, expanding merge keys (<<): entries
// written explicitly come first, merged ones only for keys not written.
// Duplicate keys are reported; keyPath gives a key's dotted path.
func (d *decoder) pairs(n *yaml.Node, keyPath func(string) string) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			var ok bool
			if k, ok = d.resolve(k); !ok {
				return out
			}
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, parentPath(keyPath("x")), "keys must be strings, got %s", kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, keyPath(k.Value), "duplicate key (first defined at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	for _, mv := range merges {
		mv, ok := d.resolve(mv)
		if !ok {
			return out
		}
		var srcs []*yaml.Node
		switch mv.Kind {
		case yaml.MappingNode:
			srcs = []*yaml.Node{mv}
		case yaml.SequenceNode:
			for _, item := range mv.Content {
				if item, ok = d.resolve(item); !ok {
					return out
				}
				srcs = append(srcs, item)
			}
		}
		for _, src := range srcs {
			if src.Kind != yaml.MappingNode {
				d.errorf(src, keyPath("<<"), "a merge key (<<) takes a mapping or a list of mappings, got %s", kindName(src))
				continue
			}
			for _, p := range d.pairs(src, keyPath) {
				if _, ok := seen[p.key.Value]; !ok {
					seen[p.key.Value] = p.key
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// scalar returns the interpolated text of a scalar node, reporting an
// error when n is not a scalar (t is the expected type) or interpolation
// fails.
func (d *decoder) scalar(n *yaml.Node, path string, t reflect.Type, f *fieldInfo) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "expected %s, got %s", typeName(t), kindName(n))
		return "", false
	}
	if f != nil && !f.interp {
		return n.Value, true
	}
	s, err := d.ip.expand(n.Value)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return "", false
	}
	return s, true
}

// decode decodes n into v. f is the struct field being decoded (or the
// field holding the list/map being decoded), nil at the root.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, f *fieldInfo) {
	n, ok := d.resolve(n)
	if !ok {
		return
	}
	d.m.vals[path] = posOf(n)
	if isNull(n) {
		return
	}
	t := v.Type()
	switch {
	case t == transformType:
		d.decodeTransform(n, v, path)
	case t == durationType || t.Kind() <= reflect.Uint64 || t.Kind() == reflect.String:
		s, ok := d.scalar(n, path, t, f)
		if !ok {
			return
		}
		if t.Kind() == reflect.String {
			v.SetString(s)
			if s != "" || (f != nil && f.keepZero) {
				d.m.set[path] = true
			}
			return
		}
		if strings.TrimSpace(s) == "" { // e.g. ${PARTITIONS:-}: use the default
			return
		}
		if err := setScalar(v, s); err != nil {
			d.errorf(n, path, "%v", err)
			return
		}
		d.m.set[path] = true
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, got %s", kindName(n))
			return
		}
		d.decodeStruct(n, v, path)
		d.m.set[path] = true
	case t.Kind() == reflect.Slice:
		d.decodeSlice(n, v, path, f)
	case t.Kind() == reflect.Map:
		d.decodeMap(n, v, path, f)
	case t.Kind() == reflect.Interface:
		if x := d.toAny(n, path); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		panic("configs: cannot decode into " + t.String())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	si := structInfoOf(v.Type())
	seen := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, func(k string) string { return joinPath(path, k) }) {
		d.structEntry(si, v, path, p.key.Value, p.key, p.val, seen)
	}
}

// structEntry decodes one key of a struct. A mapping under a key that is
// the prefix of dotted field names ("heartbeat: {interval: 10s}") is
// flattened into those names; seen catches a key set in both spellings.
func (d *decoder) structEntry(si *structInfo, v reflect.Value, path, name string, k, val *yaml.Node, seen map[string]*yaml.Node) {
	f := si.byName[name]
	if si.prefixes[name] && (f == nil || !acceptsMapping(f.typ)) {
		rv, ok := d.resolve(val)
		if !ok {
			return
		}
		if rv.Kind == yaml.MappingNode {
			for _, p := range d.pairs(rv, func(sk string) string { return joinPath(path, name+"."+sk) }) {
				d.structEntry(si, v, path, name+"."+p.key.Value, p.key, p.val, seen)
			}
			return
		}
	}
	kp := joinPath(path, name)
	if f == nil && path == "" && strings.HasPrefix(name, "x-") {
		return // extension key, e.g. to hold YAML anchors
	}
	if f == nil {
		d.errorf(k, kp, "unknown key%s", didYouMean(suggest(name, si.names)))
		return
	}
	if first, dup := seen[name]; dup {
		d.errorf(k, kp, "duplicate key (first defined at line %d)", first.Line)
		return
	}
	seen[name] = k
	d.m.keys[kp] = posOf(k)
	d.decode(val, v.Field(f.index), kp, f)
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string, f *fieldInfo) {
	t := v.Type()
	if n.Kind == yaml.ScalarNode && f != nil && f.split && t.Elem().Kind() == reflect.String {
		s, ok := d.scalar(n, path, t, f)
		if !ok {
			return
		}
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		v.Set(reflect.ValueOf(parts))
		if len(parts) > 0 {
			d.m.set[path] = true
		}
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "expected %s, got %s", typeName(t), kindName(n))
		return
	}
	out := reflect.MakeSlice(t, len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ip := indexPath(path, i)
		d.m.keys[ip] = posOf(item)
		d.decode(item, out.Index(i), ip, f)
	}
	v.Set(out)
	d.m.set[path] = true
}

var keyColumnsType = reflect.TypeFor[map[string][]string]()

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string, f *fieldInfo) {
	t := v.Type()
	if t == keyColumnsType && n.Kind == yaml.ScalarNode {
		s, ok := d.scalar(n, path, t, f)
		if !ok {
			return
		}
		m, err := parseKeyColumns(s)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return
		}
		v.Set(reflect.ValueOf(m))
		if len(m) > 0 {
			d.m.set[path] = true
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", kindName(n))
		return
	}
	out := reflect.MakeMap(t)
	for _, p := range d.pairs(n, func(k string) string { return mapKeyPath(path, k) }) {
		kp := mapKeyPath(path, p.key.Value)
		d.m.keys[kp] = posOf(p.key)
		ev := reflect.New(t.Elem()).Elem()
		d.decode(p.val, ev, kp, f)
		out.SetMapIndex(reflect.ValueOf(p.key.Value), ev)
	}
	v.Set(out)
	d.m.set[path] = true
}

// parseKeyColumns parses Debezium's message.key.columns string form,
// "db.t1:c1,c2;db.t2:c3".
func parseKeyColumns(s string) (map[string][]string, error) {
	m := map[string][]string{}
	for _, entry := range strings.Split(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		table, cols, ok := strings.Cut(entry, ":")
		table = strings.TrimSpace(table)
		if !ok || table == "" {
			return nil, fmt.Errorf(`expected a mapping of table to columns, or a string "table:col1,col2;table2:col3", got %s`, quoteValue(s))
		}
		var list []string
		for _, c := range strings.Split(cols, ",") {
			list = append(list, strings.TrimSpace(c))
		}
		m[table] = append(m[table], list...)
	}
	return m, nil
}

func (d *decoder) decodeTransform(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping with a type key, got %s", kindName(n))
		return
	}
	t := Transform{File: d.m.file, Key: path, Line: n.Line, Column: n.Column}
	for _, p := range d.pairs(n, func(k string) string { return joinPath(path, k) }) {
		kp := joinPath(path, p.key.Value)
		d.m.keys[kp] = posOf(p.key)
		if p.key.Value == "type" {
			sv := reflect.ValueOf(&t.Type).Elem()
			d.decode(p.val, sv, kp, nil)
			continue
		}
		if t.Options == nil {
			t.Options = map[string]any{}
		}
		t.Options[p.key.Value] = d.toAny(p.val, kp)
	}
	v.Set(reflect.ValueOf(t))
	d.m.set[path] = true
}

// toAny decodes a free-form value. Scalars are interpolated; a plain
// scalar whose text changed is re-resolved as a plain YAML scalar, so
// `${N}` can yield an int but never a mapping or a list.
func (d *decoder) toAny(n *yaml.Node, path string) any {
	n, ok := d.resolve(n)
	if !ok {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, p := range d.pairs(n, func(k string) string { return joinPath(path, k) }) {
			m[p.key.Value] = d.toAny(p.val, joinPath(path, p.key.Value))
		}
		return m
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i] = d.toAny(c, indexPath(path, i))
		}
		return out
	case yaml.ScalarNode:
		s, err := d.ip.expand(n.Value)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return nil
		}
		var x any
		if s == n.Value {
			if err := n.Decode(&x); err != nil {
				return s
			}
			return x
		}
		if n.Style != 0 {
			return s // quoted, block or explicitly tagged: stays a string
		}
		if err := (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).Decode(&x); err != nil {
			return s
		}
		return x
	}
	return nil
}
