package change

// Type is a Kafka Connect schema type.
type Type string

// Kafka Connect schema types.
const (
	TypeInt8    Type = "int8"
	TypeInt16   Type = "int16"
	TypeInt32   Type = "int32"
	TypeInt64   Type = "int64"
	TypeFloat32 Type = "float32"
	TypeFloat64 Type = "float64"
	TypeBoolean Type = "boolean"
	TypeString  Type = "string"
	TypeBytes   Type = "bytes"
	TypeArray   Type = "array"
	TypeMap     Type = "map"
	TypeStruct  Type = "struct"
)

// Schema is a Kafka Connect schema, as the JSON converter writes it in the
// "schema" block. Logical types (Debezium's io.debezium.time.*, Kafka's
// org.apache.kafka.connect.data.Decimal, ...) are a physical Type plus Name
// and Parameters.
type Schema struct {
	Type       Type
	Optional   bool
	Name       string // logical type / struct name; "" = absent
	Version    int    // 0 = absent
	Doc        string // "" = absent
	Parameters map[string]string
	// Default is the default value in physical representation; HasDefault
	// distinguishes "no default" from a null default.
	Default    any
	HasDefault bool
	// Fields of a struct schema, in order.
	Fields []Field
	// Items is the element schema of an array.
	Items *Schema
	// Keys and Values are the key and value schemas of a map.
	Keys, Values *Schema
}

// Field is a named field of a struct schema.
type Field struct {
	Name   string
	Schema *Schema
}

// FieldIndex returns the index of the named field, or -1.
func (s *Schema) FieldIndex(name string) int {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// Struct is a Kafka Connect struct value: Values[i] is the value of
// Schema.Fields[i].
//
// Values are held in their physical representation:
//
//	int8/int16/int32/int64  -> int8/int16/int32/int64
//	float32/float64         -> float32/float64
//	boolean                 -> bool
//	string                  -> string
//	bytes                   -> []byte (Decimal: big-endian two's complement unscaled value)
//	array                   -> []any
//	map                     -> map[string]any (string key schema), otherwise
//	                           map[any]any keyed by the physical key value
//	struct                  -> *Struct
//	null                    -> nil
type Struct struct {
	Schema *Schema
	Values []any
}

// Get returns the value of the named field and whether the field exists.
func (s *Struct) Get(name string) (any, bool) {
	if s == nil || s.Schema == nil {
		return nil, false
	}
	i := s.Schema.FieldIndex(name)
	if i < 0 || i >= len(s.Values) {
		return nil, false
	}
	return s.Values[i], true
}

// Equal reports whether s and o describe the same schema: type, optional
// flag, name, version, doc, parameters, default and, recursively, fields,
// items, keys and values.
func (s *Schema) Equal(o *Schema) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	if s.Type != o.Type || s.Optional != o.Optional || s.Name != o.Name ||
		s.Version != o.Version || s.Doc != o.Doc || s.HasDefault != o.HasDefault ||
		len(s.Parameters) != len(o.Parameters) || len(s.Fields) != len(o.Fields) {
		return false
	}
	for k, v := range s.Parameters {
		if w, ok := o.Parameters[k]; !ok || v != w {
			return false
		}
	}
	if s.HasDefault && !ValueEqual(s.Default, o.Default) {
		return false
	}
	for i := range s.Fields {
		if s.Fields[i].Name != o.Fields[i].Name || !s.Fields[i].Schema.Equal(o.Fields[i].Schema) {
			return false
		}
	}
	return s.Items.Equal(o.Items) && s.Keys.Equal(o.Keys) && s.Values.Equal(o.Values)
}

// Equal reports whether s and o have equal schemas and values.
func (s *Struct) Equal(o *Struct) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil || !s.Schema.Equal(o.Schema) || len(s.Values) != len(o.Values) {
		return false
	}
	for i := range s.Values {
		if !ValueEqual(s.Values[i], o.Values[i]) {
			return false
		}
	}
	return true
}

// ValueEqual compares two physical values (see Struct). Floats compare by
// value, except that NaN equals NaN; a nil []byte equals an empty one.
func ValueEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float32:
		y, ok := b.(float32)
		return ok && (x == y || (x != x && y != y))
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (x != x && y != y))
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case *Struct:
		y, ok := b.(*Struct)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !ValueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !ValueEqual(v, w) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !ValueEqual(v, w) {
				return false
			}
		}
		return true
	case int8, int16, int32, int64, bool, string:
		return a == b
	}
	return false
}
