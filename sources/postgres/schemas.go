package postgres

// Kafka Connect / Debezium logical schema constructors used by the type
// mapping in types.go. They are private on purpose: the change package is
// getting shared constructors (change.DecimalSchema, ...); once those land,
// the functions below can be replaced by them one for one. Names, versions,
// docs and parameters are those of Debezium 3.6 (io.debezium.data.*,
// io.debezium.time.*, io.debezium.data.geometry.*) and Kafka Connect
// (org.apache.kafka.connect.data.*).

import (
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/change"
)

// Logical type names.
const (
	nameDecimal          = "org.apache.kafka.connect.data.Decimal"
	nameConnectDate      = "org.apache.kafka.connect.data.Date"
	nameConnectTime      = "org.apache.kafka.connect.data.Time"
	nameConnectTimestamp = "org.apache.kafka.connect.data.Timestamp"

	nameDate           = "io.debezium.time.Date"
	nameTime           = "io.debezium.time.Time"
	nameMicroTime      = "io.debezium.time.MicroTime"
	nameTimestamp      = "io.debezium.time.Timestamp"
	nameMicroTimestamp = "io.debezium.time.MicroTimestamp"
	nameZonedTime      = "io.debezium.time.ZonedTime"
	nameZonedTimestamp = "io.debezium.time.ZonedTimestamp"
	nameMicroDuration  = "io.debezium.time.MicroDuration"
	nameInterval       = "io.debezium.time.Interval"

	nameJSON                 = "io.debezium.data.Json"
	nameXML                  = "io.debezium.data.Xml"
	nameUUID                 = "io.debezium.data.Uuid"
	nameEnum                 = "io.debezium.data.Enum"
	nameBits                 = "io.debezium.data.Bits"
	nameVariableScaleDecimal = "io.debezium.data.VariableScaleDecimal"
	nameLtree                = "io.debezium.data.Ltree"
	nameTsvector             = "io.debezium.data.Tsvector"
	nameDoubleVector         = "io.debezium.data.DoubleVector"
	nameFloatVector          = "io.debezium.data.FloatVector"
	nameSparseVector         = "io.debezium.data.SparseDoubleVector"
	namePoint                = "io.debezium.data.geometry.Point"
	nameGeometry             = "io.debezium.data.geometry.Geometry"
	nameGeography            = "io.debezium.data.geometry.Geography"

	paramDecimalScale     = "scale"
	paramDecimalPrecision = "connect.decimal.precision"
	paramEnumAllowed      = "allowed"
	paramBitsLength       = "length"
)

// plainSchema is a Connect schema of a primitive type without logical name.
func plainSchema(t change.Type, optional bool) *change.Schema {
	return &change.Schema{Type: t, Optional: optional}
}

// logicalSchema is a named schema; every Debezium and Connect logical type
// used here is at version 1.
func logicalSchema(t change.Type, name string, optional bool) *change.Schema {
	return &change.Schema{Type: t, Name: name, Version: 1, Optional: optional}
}

// decimalSchema is org.apache.kafka.connect.data.Decimal with Debezium's
// precision parameter; precision <= 0 omits it (MONEY).
func decimalSchema(scale, precision int, optional bool) *change.Schema {
	s := logicalSchema(change.TypeBytes, nameDecimal, optional)
	s.Parameters = map[string]string{paramDecimalScale: strconv.Itoa(scale)}
	if precision > 0 {
		s.Parameters[paramDecimalPrecision] = strconv.Itoa(precision)
	}
	return s
}

// variableScaleDecimalSchema is io.debezium.data.VariableScaleDecimal:
// struct{scale int32, value bytes}.
func variableScaleDecimalSchema(optional bool) *change.Schema {
	s := logicalSchema(change.TypeStruct, nameVariableScaleDecimal, optional)
	s.Doc = "Variable scaled decimal"
	s.Fields = []change.Field{
		{Name: "scale", Schema: plainSchema(change.TypeInt32, false)},
		{Name: "value", Schema: plainSchema(change.TypeBytes, false)},
	}
	return s
}

func bitsSchema(length int, optional bool) *change.Schema {
	s := logicalSchema(change.TypeBytes, nameBits, optional)
	s.Parameters = map[string]string{paramBitsLength: strconv.Itoa(length)}
	return s
}

func enumSchema(values []string, optional bool) *change.Schema {
	s := logicalSchema(change.TypeString, nameEnum, optional)
	s.Parameters = map[string]string{paramEnumAllowed: strings.Join(values, ",")}
	return s
}

func arraySchema(items *change.Schema, optional bool) *change.Schema {
	return &change.Schema{Type: change.TypeArray, Optional: optional, Items: items}
}

// vectorSchema is io.debezium.data.DoubleVector / FloatVector: a named
// array of non-optional floats.
func vectorSchema(name string, elem change.Type, optional bool) *change.Schema {
	s := logicalSchema(change.TypeArray, name, optional)
	s.Items = plainSchema(elem, false)
	return s
}

// sparseVectorSchema is io.debezium.data.SparseDoubleVector:
// struct{dimensions int16, vector map<int16, float64>}.
func sparseVectorSchema(optional bool) *change.Schema {
	s := logicalSchema(change.TypeStruct, nameSparseVector, optional)
	s.Doc = "Sparse double vector"
	s.Fields = []change.Field{
		{Name: "dimensions", Schema: plainSchema(change.TypeInt16, false)},
		{Name: "vector", Schema: &change.Schema{Type: change.TypeMap,
			Keys: plainSchema(change.TypeInt16, false), Values: plainSchema(change.TypeFloat64, false)}},
	}
	return s
}

// pointSchema is io.debezium.data.geometry.Point.
func pointSchema(optional bool) *change.Schema {
	s := logicalSchema(change.TypeStruct, namePoint, optional)
	s.Doc = "Geometry (POINT)"
	s.Fields = []change.Field{
		{Name: "x", Schema: plainSchema(change.TypeFloat64, false)},
		{Name: "y", Schema: plainSchema(change.TypeFloat64, false)},
		{Name: "wkb", Schema: plainSchema(change.TypeBytes, true)},
		{Name: "srid", Schema: plainSchema(change.TypeInt32, true)},
	}
	return s
}

// geometrySchema is io.debezium.data.geometry.Geometry (PostGIS geometry).
// Debezium's builder marks it optional whatever the column's nullability.
func geometrySchema() *change.Schema {
	s := logicalSchema(change.TypeStruct, nameGeometry, true)
	s.Doc = "Geometry"
	s.Fields = []change.Field{
		{Name: "wkb", Schema: plainSchema(change.TypeBytes, false)},
		{Name: "srid", Schema: plainSchema(change.TypeInt32, true)},
	}
	return s
}

// geographySchema is io.debezium.data.geometry.Geography (PostGIS geography).
func geographySchema(optional bool) *change.Schema {
	s := logicalSchema(change.TypeStruct, nameGeography, optional)
	s.Doc = "Geography"
	s.Fields = []change.Field{
		{Name: "wkb", Schema: plainSchema(change.TypeBytes, false)},
		{Name: "srid", Schema: plainSchema(change.TypeInt32, true)},
	}
	return s
}

// structSchema is a table's key or row struct schema.
func structSchema(name string, fields []change.Field, optional bool) *change.Schema {
	return &change.Schema{Type: change.TypeStruct, Name: name, Optional: optional, Fields: fields}
}

// topicFor is "<prefix>.<schema>.<table>" sanitised as Debezium's default
// topic naming strategy does: blank parts are skipped, characters outside
// [A-Za-z0-9._-] become '_' (one per UTF-16 unit), and names are cut at 249
// bytes. It mirrors change.TopicFor.
func topicFor(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for _, r := range p {
			switch {
			case r < 0x80 && validTopicByte(byte(r)):
				b.WriteRune(r)
			case r > 0xFFFF:
				b.WriteString("__")
			default:
				b.WriteByte('_')
			}
		}
	}
	name := b.String()
	switch {
	case len(name) > 249:
		name = name[:249]
	case name == ".":
		name = "_"
	case name == "..":
		name = "__"
	}
	return name
}

func validTopicByte(c byte) bool {
	return c == '.' || c == '_' || c == '-' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}
