package esemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// field is a mapped field. An object field (Type "object" or "") holds
// properties; other fields may hold multi-fields.
type field struct {
	typ           string
	props         map[string]*field // object properties
	fields        map[string]*field // multi-fields
	scalingFactor float64
	format        string
	ignoreAbove   int
	dynamic       string // object fields: "true" (default), "false", "strict"
	extra         map[string]any
}

func newObject() *field { return &field{typ: "object", props: map[string]*field{}} }

func (f *field) isObject() bool { return f.typ == "object" || f.typ == "nested" }

// parseObjectMapping reads {"dynamic": ..., "properties": {...}}.
func parseObjectMapping(m map[string]any) (*field, error) {
	f := newObject()
	if d, ok := m["dynamic"]; ok {
		f.dynamic = fmt.Sprint(d)
		switch f.dynamic {
		case "true", "false", "strict", "runtime":
		default:
			return nil, fmt.Errorf("unknown dynamic value [%s]", f.dynamic)
		}
	}
	if p, ok := m["properties"].(map[string]any); ok {
		for name, v := range p {
			fm, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("expected map for property [%s]", name)
			}
			sub, err := parseField(fm)
			if err != nil {
				return nil, fmt.Errorf("property [%s]: %w", name, err)
			}
			f.props[name] = sub
		}
	}
	return f, nil
}

var knownTypes = map[string]bool{
	"text": true, "keyword": true, "long": true, "integer": true, "short": true, "byte": true,
	"double": true, "float": true, "half_float": true, "scaled_float": true, "unsigned_long": true,
	"boolean": true, "date": true, "date_nanos": true, "binary": true, "object": true, "nested": true,
	"flattened": true, "flat_object": true, "ip": true,
}

func parseField(m map[string]any) (*field, error) {
	typ, _ := m["type"].(string)
	if typ == "" {
		if _, ok := m["properties"]; ok {
			typ = "object"
		} else {
			return nil, fmt.Errorf("no type specified")
		}
	}
	if !knownTypes[typ] {
		return nil, fmt.Errorf("no handler for type [%s] declared on field", typ)
	}
	if typ == "object" || typ == "nested" {
		f, err := parseObjectMapping(m)
		if err != nil {
			return nil, err
		}
		f.typ = typ
		return f, nil
	}
	f := &field{typ: typ, extra: map[string]any{}}
	for k, v := range m {
		switch k {
		case "type":
		case "scaling_factor":
			n, ok := v.(json.Number)
			if !ok {
				return nil, fmt.Errorf("[scaling_factor] must be a number")
			}
			f.scalingFactor, _ = n.Float64()
		case "format":
			f.format = fmt.Sprint(v)
		case "ignore_above":
			n, _ := v.(json.Number)
			i, _ := n.Int64()
			f.ignoreAbove = int(i)
		case "fields":
			fm, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("[fields] must be an object")
			}
			f.fields = map[string]*field{}
			for name, sv := range fm {
				sm, ok := sv.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("multi-field [%s] must be an object", name)
				}
				sub, err := parseField(sm)
				if err != nil {
					return nil, err
				}
				f.fields[name] = sub
			}
		default:
			f.extra[k] = v
		}
	}
	if typ == "scaled_float" && f.scalingFactor == 0 {
		return nil, fmt.Errorf("field [scaling_factor] is required")
	}
	return f, nil
}

// fieldJSON renders a field as a mapping.
func (f *field) fieldJSON() map[string]any {
	if f.isObject() {
		m := f.objectJSON()
		if f.typ == "nested" {
			m["type"] = "nested"
		}
		return m
	}
	m := map[string]any{"type": f.typ}
	for k, v := range f.extra {
		m[k] = v
	}
	if f.scalingFactor != 0 {
		m["scaling_factor"] = f.scalingFactor
	}
	if f.format != "" {
		m["format"] = f.format
	}
	if f.ignoreAbove != 0 {
		m["ignore_above"] = f.ignoreAbove
	}
	if len(f.fields) > 0 {
		fs := map[string]any{}
		for k, v := range f.fields {
			fs[k] = v.fieldJSON()
		}
		m["fields"] = fs
	}
	return m
}

func (f *field) objectJSON() map[string]any {
	m := map[string]any{}
	if f.dynamic != "" {
		m["dynamic"] = f.dynamic
	}
	if len(f.props) > 0 {
		p := map[string]any{}
		for k, v := range f.props {
			p[k] = v.fieldJSON()
		}
		m["properties"] = p
	}
	return m
}

// merge adds o's properties to f (o wins for leaf fields).
func (f *field) merge(o *field) {
	if o.dynamic != "" {
		f.dynamic = o.dynamic
	}
	for k, v := range o.props {
		if cur, ok := f.props[k]; ok && cur.isObject() && v.isObject() {
			cur.merge(v)
			continue
		}
		f.props[k] = v
	}
}

// compatible reports a mapping update that would change an existing
// field's type.
func (f *field) compatible(o *field, prefix string) error {
	for k, v := range o.props {
		cur, ok := f.props[k]
		if !ok {
			continue
		}
		if cur.typ != v.typ {
			return fmt.Errorf("mapper [%s%s] cannot be changed from type [%s] to [%s]", prefix, k, cur.typ, v.typ)
		}
		if cur.isObject() {
			if err := cur.compatible(v, prefix+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseSource reads a document source.
func parseSource(source []byte) (map[string]any, *esError) {
	dec := json.NewDecoder(bytes.NewReader(source))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, &esError{status: 400, typ: "mapper_parsing_exception", reason: "failed to parse", causeTy: "json_parse_exception", cause: err.Error()}
	}
	if dec.More() {
		return nil, &esError{status: 400, typ: "mapper_parsing_exception", reason: "failed to parse"}
	}
	if doc == nil {
		return nil, &esError{status: 400, typ: "mapper_parsing_exception", reason: "failed to parse, document is empty"}
	}
	return doc, nil
}

// indexDoc checks a parsed document against the mapping and adds dynamic
// fields. Nothing changes when the document is rejected.
func (f *field) indexDoc(id string, doc map[string]any) *esError {
	p := &docParser{id: id, added: map[string]*field{}}
	if e := p.object(f, "", doc, "true"); e != nil {
		return e
	}
	for path, nf := range p.added {
		f.addPath(path, nf)
	}
	return nil
}

// addPath adds a dynamically mapped field at a dotted path.
func (f *field) addPath(path string, nf *field) {
	cur := f
	parts := strings.Split(path, ".")
	for _, name := range parts[:len(parts)-1] {
		next := cur.props[name]
		if next == nil {
			next = newObject()
			cur.props[name] = next
		}
		cur = next
	}
	if _, ok := cur.props[parts[len(parts)-1]]; !ok {
		cur.props[parts[len(parts)-1]] = nf
	}
}

type docParser struct {
	id    string
	added map[string]*field // dotted path -> new field
}

func (p *docParser) object(f *field, prefix string, doc map[string]any, dynamic string) *esError {
	if f.dynamic != "" {
		dynamic = f.dynamic
	}
	names := make([]string, 0, len(doc))
	for k := range doc {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		path := prefix + name
		v := doc[name]
		sub := f.props[name]
		if sub == nil {
			sub = p.added[path]
		}
		if sub == nil {
			switch dynamic {
			case "false", "runtime":
				continue
			case "strict":
				return &esError{status: 400, typ: "strict_dynamic_mapping_exception", reason: fmt.Sprintf("[%s] mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed", strings.TrimSuffix(prefix, "."), name, parentName(prefix))}
			}
			sub = infer(v)
			if sub == nil {
				continue // null or empty array: no mapping yet
			}
			p.added[path] = sub
		}
		if e := p.value(sub, path, v, dynamic); e != nil {
			return e
		}
	}
	return nil
}

func parentName(prefix string) string {
	if prefix == "" {
		return "_doc"
	}
	return strings.TrimSuffix(prefix, ".")
}

// infer is dynamic mapping: JSON type to field type.
func infer(v any) *field {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return &field{typ: "boolean"}
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return &field{typ: "long"}
		}
		return &field{typ: "float"}
	case string:
		if dateRE.MatchString(x) {
			return &field{typ: "date"}
		}
		return &field{typ: "text", fields: map[string]*field{"keyword": {typ: "keyword", ignoreAbove: 256}}}
	case map[string]any:
		return newObject()
	case []any:
		for _, e := range x {
			if f := infer(e); f != nil {
				return f
			}
		}
	}
	return nil
}

// dateRE is what strict_date_optional_time accepts (and what date
// detection recognises).
var dateRE = regexp.MustCompile(`^[+-]?\d{4,9}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$`)

func (p *docParser) value(f *field, path string, v any, dynamic string) *esError {
	if v == nil {
		return nil
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if err := p.value(f, path, e, dynamic); err != nil {
				return err
			}
		}
		return nil
	}
	if f.isObject() {
		obj, ok := v.(map[string]any)
		if !ok {
			return &esError{status: 400, typ: "mapper_parsing_exception", reason: fmt.Sprintf("object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", path, lastName(path))}
		}
		return p.object(f, path+".", obj, dynamic)
	}
	if _, ok := v.(map[string]any); ok && f.typ != "flattened" && f.typ != "flat_object" {
		return p.fail(f, path, v, "illegal_state_exception", "Can't get text on a START_OBJECT")
	}
	switch f.typ {
	case "long", "integer", "short", "byte", "unsigned_long":
		var n float64
		switch x := v.(type) {
		case json.Number:
			n, _ = x.Float64()
		case string:
			var err error
			if n, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
				return p.fail(f, path, v, "number_format_exception", fmt.Sprintf("For input string: %q", x))
			}
		default:
			return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("Current token (%s) not numeric, can not use numeric value accessors", tokenName(v)))
		}
		lo, hi := rangeOf(f.typ)
		if n < lo || n > hi || math.IsNaN(n) {
			return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("Value [%v] is out of range for %s", v, f.typ))
		}
	case "double", "float", "half_float", "scaled_float":
		switch x := v.(type) {
		case json.Number:
		case string:
			if _, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
				return p.fail(f, path, v, "number_format_exception", fmt.Sprintf("For input string: %q", x))
			}
		default:
			return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("Current token (%s) not numeric, can not use numeric value accessors", tokenName(v)))
		}
	case "boolean":
		switch x := v.(type) {
		case bool:
		case string:
			if x != "true" && x != "false" && x != "" {
				return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("Failed to parse value [%s] as only [true] or [false] are allowed.", x))
			}
		default:
			return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("Failed to parse value [%v] as only [true] or [false] are allowed.", v))
		}
	case "date", "date_nanos":
		switch x := v.(type) {
		case json.Number:
			if _, err := x.Int64(); err != nil {
				return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("failed to parse date field [%s] with format [strict_date_optional_time||epoch_millis]", x))
			}
		case string:
			if !dateRE.MatchString(x) {
				if _, err := strconv.ParseInt(x, 10, 64); err != nil || !strings.Contains(f.format+"||epoch_millis", "epoch_millis") {
					return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("failed to parse date field [%s] with format [strict_date_optional_time||epoch_millis]", x))
				}
			}
		default:
			return p.fail(f, path, v, "illegal_argument_exception", fmt.Sprintf("failed to parse date field [%v] with format [strict_date_optional_time||epoch_millis]", v))
		}
	case "binary":
		x, ok := v.(string)
		if !ok {
			return p.fail(f, path, v, "illegal_argument_exception", "Current token ("+tokenName(v)+") not VALUE_STRING or VALUE_EMBEDDED_OBJECT, can not access as binary")
		}
		if _, err := base64.StdEncoding.DecodeString(x); err != nil {
			return p.fail(f, path, v, "illegal_argument_exception", "Illegal base64 character")
		}
	}
	return nil
}

func (p *docParser) fail(f *field, path string, v any, causeTy, cause string) *esError {
	preview := fmt.Sprint(v)
	if s, ok := v.(string); ok {
		preview = s
	}
	return &esError{status: 400, typ: "mapper_parsing_exception",
		reason:  fmt.Sprintf("failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s'", path, f.typ, p.id, preview),
		causeTy: causeTy, cause: cause}
}

func lastName(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func tokenName(v any) string {
	switch v.(type) {
	case bool:
		return "VALUE_" + strings.ToUpper(fmt.Sprint(v))
	case string:
		return "VALUE_STRING"
	case json.Number:
		return "VALUE_NUMBER_INT"
	case map[string]any:
		return "START_OBJECT"
	}
	return "VALUE_NULL"
}

func rangeOf(typ string) (lo, hi float64) {
	switch typ {
	case "byte":
		return math.MinInt8, math.MaxInt8
	case "short":
		return math.MinInt16, math.MaxInt16
	case "integer":
		return math.MinInt32, math.MaxInt32
	case "unsigned_long":
		return 0, math.MaxUint64
	}
	return math.MinInt64, math.MaxInt64
}
