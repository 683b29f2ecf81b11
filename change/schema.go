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
//	map                     -> map[string]any
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
