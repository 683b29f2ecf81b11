package configs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// String renders the configuration as YAML with secrets redacted. The
// output parses back into an equivalent (redacted) configuration.
func (c Config) String() string { return renderYAML(c.Redacted()) }

// MarshalYAML renders the configuration with secrets redacted.
func (c Config) MarshalYAML() (any, error) {
	return encodeValue(reflect.ValueOf(c.Redacted()).Elem(), true), nil
}

// MarshalJSON renders the configuration as JSON, using the YAML key names,
// with secrets redacted.
func (c Config) MarshalJSON() ([]byte, error) { return renderJSON(c.Redacted()), nil }

// String renders the source as YAML with secrets redacted.
func (s Source) String() string { return renderYAML(redactedCopy(s)) }

// MarshalYAML renders the source with secrets redacted.
func (s Source) MarshalYAML() (any, error) {
	return encodeValue(reflect.ValueOf(redactedCopy(s)), true), nil
}

// MarshalJSON renders the source as JSON with secrets redacted.
func (s Source) MarshalJSON() ([]byte, error) { return renderJSON(redactedCopy(s)), nil }

// String renders the sink as YAML with secrets redacted.
func (s Sink) String() string { return renderYAML(redactedCopy(s)) }

// MarshalYAML renders the sink with secrets redacted.
func (s Sink) MarshalYAML() (any, error) {
	return encodeValue(reflect.ValueOf(redactedCopy(s)), true), nil
}

// MarshalJSON renders the sink as JSON with secrets redacted.
func (s Sink) MarshalJSON() ([]byte, error) { return renderJSON(redactedCopy(s)), nil }

// String renders the Kafka settings as YAML with secrets redacted.
func (k Kafka) String() string { return renderYAML(redactedCopy(k)) }

// MarshalYAML renders the Kafka settings with secrets redacted.
func (k Kafka) MarshalYAML() (any, error) {
	return encodeValue(reflect.ValueOf(redactedCopy(k)), true), nil
}

// MarshalJSON renders the Kafka settings as JSON with secrets redacted.
func (k Kafka) MarshalJSON() ([]byte, error) { return renderJSON(redactedCopy(k)), nil }

// String renders the SASL settings as YAML with the password redacted.
func (s SASL) String() string { return renderYAML(redactedCopy(s)) }

// MarshalYAML renders the SASL settings with the password redacted.
func (s SASL) MarshalYAML() (any, error) {
	return encodeValue(reflect.ValueOf(redactedCopy(s)), true), nil
}

// MarshalJSON renders the SASL settings as JSON with the password redacted.
func (s SASL) MarshalJSON() ([]byte, error) { return renderJSON(redactedCopy(s)), nil }

// renderYAML encodes x (already redacted) with the package's own encoder.
func renderYAML(x any) string {
	v := reflect.ValueOf(x)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(encodeValue(v, true)); err != nil {
		return "# cannot render configuration: " + err.Error() + "\n"
	}
	_ = enc.Close()
	return buf.String()
}

func renderJSON(x any) []byte {
	v := reflect.ValueOf(x)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var buf bytes.Buffer
	writeJSON(&buf, encodeValue(v, false))
	return buf.Bytes()
}

// encodeValue builds the YAML node for v, walking structs by their yaml
// tags. It never calls the Marshal methods above, so it does not redact.
// With escape, '$' is doubled where the decoder would otherwise read an
// interpolation, so that the YAML parses back to the same values.
func encodeValue(v reflect.Value, escape bool) *yaml.Node {
	t := v.Type()
	switch {
	case t == durationType:
		return strNode(Duration(v.Int()).String())
	case t == transformType:
		return encodeTransform(v.Interface().(Transform), escape)
	case t.Kind() == reflect.Struct:
		return encodeStruct(v, escape)
	case t.Kind() == reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if t.Elem().Kind() == reflect.String {
			n.Style = yaml.FlowStyle
		}
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, encodeValue(v.Index(i), escape))
		}
		return n
	case t.Kind() == reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Content = append(n.Content, strNode(k), encodeValue(v.MapIndex(reflect.ValueOf(k)), escape))
		}
		return n
	case t.Kind() == reflect.String && escape:
		return strNode(escapeDollars(v.String()))
	}
	return anyNode(v.Interface(), escape)
}

func encodeStruct(v reflect.Value, escape bool) *yaml.Node {
	si := structInfoOf(v.Type())
	typ := si.connType(v)
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range si.fields {
		fv := v.Field(f.index)
		zero := fv.IsZero() || ((fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.Len() == 0)
		if zero && fv.Kind() != reflect.Struct {
			// An explicit zero is printed when it differs from the default,
			// so that the output parses back to the same configuration.
			if !f.hasDef || f.def.IsZero() || !f.validFor(typ) {
				continue
			}
		}
		val := encodeValue(fv, escape && f.interp)
		if f.typ.Kind() == reflect.Struct && val.Kind == yaml.MappingNode && len(val.Content) == 0 {
			continue
		}
		n.Content = append(n.Content, strNode(f.name), val)
	}
	return n
}

func encodeTransform(t Transform, escape bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	typ := t.Type
	if escape {
		typ = escapeDollars(typ)
	}
	n.Content = append(n.Content, strNode("type"), strNode(typ))
	for _, k := range sortedKeys(t.Options) {
		n.Content = append(n.Content, strNode(k), anyNode(t.Options[k], escape))
	}
	return n
}

// escapeDollars doubles each '$' followed by '$' or '{', the inverse of
// interpolation for text without references.
func escapeDollars(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '{') {
			b.WriteByte('$')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func strNode(s string) *yaml.Node { return anyNode(s, false) }

// anyNode encodes a scalar or a free-form value (transform options).
func anyNode(x any, escape bool) *yaml.Node {
	if escape {
		x = escapeAny(x)
	}
	n := &yaml.Node{}
	if err := n.Encode(x); err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return n
}

func escapeAny(x any) any {
	switch x := x.(type) {
	case string:
		return escapeDollars(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = escapeAny(v)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, v := range x {
			l[i] = escapeAny(v)
		}
		return l
	}
	return x
}

// writeJSON writes a node tree as JSON, keeping the key order.
func writeJSON(b *bytes.Buffer, n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			writeJSON(b, n.Content[0])
			return
		}
		b.WriteString("null")
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			writeJSON(b, n.Content[i+1])
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, c)
		}
		b.WriteByte(']')
	case yaml.AliasNode:
		writeJSON(b, n.Alias)
	default:
		switch n.ShortTag() {
		case "!!null":
			b.WriteString("null")
			return
		case "!!bool":
			if n.Value == "true" || n.Value == "false" {
				b.WriteString(n.Value)
				return
			}
		case "!!int", "!!float":
			var num json.Number
			if json.Unmarshal([]byte(n.Value), &num) == nil {
				b.WriteString(n.Value)
				return
			}
		}
		s, _ := json.Marshal(n.Value)
		b.Write(s)
	}
}

// GoString keeps %#v from printing secrets.
func (c Config) GoString() string {
	type plain Config
	return goString(plain(*c.Redacted()), "Config")
}

// GoString keeps %#v from printing secrets.
func (s Source) GoString() string {
	type plain Source
	return goString(plain(redactedCopy(s)), "Source")
}

// GoString keeps %#v from printing secrets.
func (s Sink) GoString() string {
	type plain Sink
	return goString(plain(redactedCopy(s)), "Sink")
}

// GoString keeps %#v from printing secrets.
func (k Kafka) GoString() string {
	type plain Kafka
	return goString(plain(redactedCopy(k)), "Kafka")
}

// GoString keeps %#v from printing secrets.
func (s SASL) GoString() string {
	type plain SASL
	return goString(plain(redactedCopy(s)), "SASL")
}

func goString(x any, name string) string {
	return strings.Replace(fmt.Sprintf("%#v", x), "configs.plain", "configs."+name, 1)
}
