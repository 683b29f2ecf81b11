package change

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// JSONOptions configures the Debezium JSON codec (Kafka Connect's
// JsonConverter settings).
type JSONOptions struct {
	// Schemas writes {"schema":...,"payload":...} (schemas.enable=true, the
	// Kafka default) instead of the bare payload.
	Schemas bool
	// KeepNulls writes null for a null value whose schema has a default
	// (replace.null.with.default=false). By default the JsonConverter writes
	// the schema's default instead, and so does the encoder; this also
	// applies to the source block's "snapshot" (default "false").
	KeepNulls bool
}

// maxCachedSchemas bounds each schema-block cache of a JSONEncoder; when
// full it is cleared (schemas are per table, so this only matters after
// many schema changes).
const maxCachedSchemas = 4096

// ErrNullRequired reports a null value for a required field without a
// default (the JsonConverter rejects such a record too).
var ErrNullRequired = errors.New("null value for required field without default")

type envKey struct {
	row  *Schema
	conn connKind
}

// JSONEncoder writes change events as Debezium's JSON converter does
// (Debezium 3.6 envelope and source blocks, Kafka Connect JsonConverter with
// default settings). It caches the serialised schema block of each key and
// row *Schema, so schemas must not be modified once encoded. A JSONEncoder
// is for use by one goroutine at a time.
type JSONEncoder struct {
	opts      JSONOptions
	keyBlocks map[*Schema][]byte
	envBlocks map[envKey][]byte
	// names holds each struct schema's field names, written out.
	names map[*Schema]*fieldNames
	// lastSource is the last snapshot event's source block (kind k),
	// written out in lastSourceJSON: a snapshot's rows mostly share it.
	lastSource     Source
	lastSourceKind connKind
	lastSourceJSON []byte
	// lastTs is the envelope's timestamps for lastTsUs, written out.
	lastTsUs int64
	lastTs   []byte
}

// fieldNames is a struct schema's field names as appendStruct writes them:
// field i is buf[ends[i-1]:ends[i]], `"name":` with a ',' before it for
// every field but the first.
type fieldNames struct {
	buf  []byte
	ends []int
}

func newFieldNames(s *Schema) *fieldNames {
	n := &fieldNames{ends: make([]int, len(s.Fields))}
	for i := range s.Fields {
		if i > 0 {
			n.buf = append(n.buf, ',')
		}
		n.buf = appendString(n.buf, s.Fields[i].Name)
		n.buf = append(n.buf, ':')
		n.ends[i] = len(n.buf)
	}
	return n
}

// fieldNames returns s's field names, cached.
func (enc *JSONEncoder) fieldNames(s *Schema) *fieldNames {
	if n, ok := enc.names[s]; ok {
		return n
	}
	n := newFieldNames(s)
	if enc.names != nil { // nil in the encoder of schema defaults
		if len(enc.names) >= maxCachedSchemas {
			clear(enc.names)
		}
		enc.names[s] = n
	}
	return n
}

// NewJSONEncoder returns an encoder with the given options.
func NewJSONEncoder(opts JSONOptions) *JSONEncoder {
	return &JSONEncoder{
		opts:      opts,
		keyBlocks: make(map[*Schema][]byte),
		envBlocks: make(map[envKey][]byte),
		names:     make(map[*Schema]*fieldNames),
	}
}

// Options returns the encoder's options.
func (enc *JSONEncoder) Options() JSONOptions { return enc.opts }

// Schemas reports whether the encoder writes the schema block.
func (enc *JSONEncoder) Schemas() bool { return enc.opts.Schemas }

// KeyIsNull reports whether e's Kafka record key is null: a row or truncate
// event of a table without key (Key == nil). AppendKey writes nothing then.
// Schema-change events always have a key ({"databaseName": ...}).
func KeyIsNull(e *Event) bool { return e.SchemaChange == nil && e.Key == nil && e.KeySchema == nil }

// ValueIsNull reports whether e's Kafka record value is null: a tombstone.
// AppendValue writes nothing then.
func ValueIsNull(e *Event) bool { return e.Tombstone }

// AppendKey appends the JSON record key of e to dst. If KeyIsNull(e) it
// returns dst unchanged: the record key must then be nil, not empty. The
// key of a schema-change event is {"databaseName": SchemaChange.DatabaseName}
// (io.debezium.connector.<connector>.SchemaChangeKey); Event.Key is ignored.
// On error dst is returned without partial output.
func (enc *JSONEncoder) AppendKey(dst []byte, e *Event) ([]byte, error) {
	if e.SchemaChange != nil {
		k := connectorKind(e.Source.Connector)
		if k == connUnknown {
			return dst, fmt.Errorf("change: encode key for %s: unknown connector %q", e.Topic, e.Source.Connector)
		}
		if enc.opts.Schemas {
			dst = append(dst, `{"schema":`...)
			dst = append(dst, schemaChangeKeyBlocks[k]...)
			dst = append(dst, `,"payload":`...)
		}
		dst = append(dst, `{"databaseName":`...)
		dst = appendString(dst, e.SchemaChange.DatabaseName)
		dst = append(dst, '}')
		if enc.opts.Schemas {
			dst = append(dst, '}')
		}
		return dst, nil
	}
	if e.Key == nil && e.KeySchema != nil {
		return enc.appendPlainKey(dst, e)
	}
	if e.Key == nil {
		return dst, nil
	}
	s := e.Key.Schema
	if s == nil {
		return dst, fmt.Errorf("change: encode key for %s: key has no schema", e.Topic)
	}
	start := len(dst)
	var err error
	if enc.opts.Schemas {
		block, ok := enc.keyBlocks[s]
		if !ok {
			if block, err = appendSchema(nil, s, "", false); err != nil {
				return dst, fmt.Errorf("change: encode key schema for %s: %w", e.Topic, err)
			}
			if len(enc.keyBlocks) >= maxCachedSchemas {
				clear(enc.keyBlocks)
			}
			enc.keyBlocks[s] = block
		}
		dst = append(dst, `{"schema":`...)
		dst = append(dst, block...)
		dst = append(dst, `,"payload":`...)
	}
	if dst, err = enc.appendStruct(dst, s, e.Key); err != nil {
		return dst[:start], fmt.Errorf("change: encode key for %s: %w", e.Topic, err)
	}
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst, nil
}

// AppendValue appends the JSON record value of e to dst. If ValueIsNull(e)
// (a tombstone) it returns dst unchanged: the record value must then be nil.
// Row and truncate events need RowSchema; the envelope schema is named after
// RowSchema.Name (".Value" -> ".Envelope"). A flat event (Event.IsFlat, the
// output of unwrap or outbox transforms) is written as After (or Value)
// with RowSchema as its schema. On error dst is returned without partial
// output.
func (enc *JSONEncoder) AppendValue(dst []byte, e *Event) ([]byte, error) {
	start := len(dst)
	var err error
	switch {
	case e.Tombstone:
		return dst, nil
	case e.SchemaChange != nil:
		dst, err = enc.appendSchemaChange(dst, e)
	case e.IsRow() || e.Op == OpTruncate:
		dst, err = enc.appendEnvelope(dst, e)
	case e.IsFlat():
		dst, err = enc.appendFlat(dst, e)
	default:
		// Heartbeat and transaction metadata events will get their own cases.
		err = fmt.Errorf("unsupported event (op %q)", e.Op)
	}
	if err != nil {
		return dst[:start], fmt.Errorf("change: encode value for %s: %w", e.Topic, err)
	}
	return dst, nil
}

// Encode returns e's record key and value in new slices; a null key or
// value is a nil slice.
func (enc *JSONEncoder) Encode(e *Event) (key, value []byte, err error) {
	if !KeyIsNull(e) {
		if key, err = enc.AppendKey(make([]byte, 0, 128), e); err != nil {
			return nil, nil, err
		}
	}
	if !ValueIsNull(e) {
		if value, err = enc.AppendValue(make([]byte, 0, 1024), e); err != nil {
			return nil, nil, err
		}
	}
	return key, value, nil
}

// appendPlainKey writes a non-struct key (Event.KeySchema, KeyValue).
func (enc *JSONEncoder) appendPlainKey(dst []byte, e *Event) ([]byte, error) {
	start := len(dst)
	var err error
	if enc.opts.Schemas {
		if dst, err = enc.appendBlock(dst, e.KeySchema); err != nil {
			return dst[:start], fmt.Errorf("change: encode key schema for %s: %w", e.Topic, err)
		}
	}
	if dst, err = enc.appendValue(dst, e.KeySchema, e.KeyValue); err != nil {
		return dst[:start], fmt.Errorf("change: encode key for %s: %w", e.Topic, err)
	}
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst, nil
}

// appendBlock writes `{"schema":<s>,"payload":` with s's block cached.
func (enc *JSONEncoder) appendBlock(dst []byte, s *Schema) ([]byte, error) {
	block, ok := enc.keyBlocks[s]
	if !ok {
		var err error
		if block, err = appendSchema(nil, s, "", false); err != nil {
			return dst, err
		}
		if len(enc.keyBlocks) >= maxCachedSchemas {
			clear(enc.keyBlocks)
		}
		enc.keyBlocks[s] = block
	}
	dst = append(dst, `{"schema":`...)
	dst = append(dst, block...)
	return append(dst, `,"payload":`...), nil
}

// appendFlat writes a flat event's value (see Event.IsFlat) with RowSchema
// as its schema.
func (enc *JSONEncoder) appendFlat(dst []byte, e *Event) ([]byte, error) {
	s := e.RowSchema
	var err error
	if enc.opts.Schemas {
		if dst, err = enc.appendBlock(dst, s); err != nil {
			return dst, fmt.Errorf("value schema: %w", err)
		}
	}
	var v any = e.Value
	if s.Type == TypeStruct {
		v = e.After
		if e.After == nil {
			v = nil
		}
	}
	if dst, err = enc.appendValue(dst, s, v); err != nil {
		return dst, err
	}
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst, nil
}

func (enc *JSONEncoder) envelopeBlock(e *Event, k connKind) ([]byte, error) {
	key := envKey{e.RowSchema, k}
	if b, ok := enc.envBlocks[key]; ok {
		return b, nil
	}
	name := e.RowSchema.Name
	if name == "" {
		name = ValueSchemaName(e.Topic)
	}
	b, err := appendSchema(nil, newEnvelopeSchema(EnvelopeSchemaName(name), e.RowSchema, k), "", false)
	if err != nil {
		return nil, fmt.Errorf("envelope schema: %w", err)
	}
	if len(enc.envBlocks) >= maxCachedSchemas {
		clear(enc.envBlocks)
	}
	enc.envBlocks[key] = b
	return b, nil
}

func (enc *JSONEncoder) appendEnvelope(dst []byte, e *Event) ([]byte, error) {
	k := connectorKind(e.Source.Connector)
	if k == connUnknown {
		return dst, fmt.Errorf("unknown connector %q", e.Source.Connector)
	}
	row := e.RowSchema
	if row == nil {
		return dst, errors.New("event has no RowSchema")
	}
	if enc.opts.Schemas {
		block, err := enc.envelopeBlock(e, k)
		if err != nil {
			return dst, err
		}
		dst = append(dst, `{"schema":`...)
		dst = append(dst, block...)
		dst = append(dst, `,"payload":`...)
	}
	var err error
	dst = append(dst, `{"before":`...)
	if dst, err = enc.appendRow(dst, row, e.Before); err != nil {
		return dst, fmt.Errorf("before: %w", err)
	}
	dst = append(dst, `,"after":`...)
	if dst, err = enc.appendRow(dst, row, e.After); err != nil {
		return dst, fmt.Errorf("after: %w", err)
	}
	dst = append(dst, `,"source":`...)
	if e.Source.Snapshot == "true" {
		// A snapshot's rows share their source block (but for the
		// snapshot=last one): write it out once.
		if k != enc.lastSourceKind || e.Source != enc.lastSource || enc.lastSourceJSON == nil {
			enc.lastSourceJSON = enc.appendSource(enc.lastSourceJSON[:0], &e.Source, k)
			enc.lastSource, enc.lastSourceKind = e.Source, k
		}
		dst = append(dst, enc.lastSourceJSON...)
	} else {
		dst = enc.appendSource(dst, &e.Source, k)
	}
	dst = append(dst, `,"transaction":`...)
	if t := e.Transaction; t != nil {
		dst = append(dst, `{"id":`...)
		dst = appendString(dst, t.ID)
		dst = append(dst, `,"total_order":`...)
		dst = strconv.AppendInt(dst, t.TotalOrder, 10)
		dst = append(dst, `,"data_collection_order":`...)
		dst = strconv.AppendInt(dst, t.DataCollectionOrder, 10)
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"op":`...)
	dst = appendString(dst, string(e.Op))
	// Events of one snapshot chunk share their processing time.
	if e.TsUs != enc.lastTsUs || enc.lastTs == nil {
		enc.lastTs = appendTimestamps(enc.lastTs[:0], e.TsUs)
		enc.lastTsUs = e.TsUs
	}
	dst = append(dst, enc.lastTs...)
	dst = append(dst, '}')
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst, nil
}

func (enc *JSONEncoder) appendRow(dst []byte, row *Schema, v *Struct) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	return enc.appendStruct(dst, row, v)
}

// appendTimestamps appends ,"ts_ms":..,"ts_us":..,"ts_ns":.. from µs.
func appendTimestamps(dst []byte, us int64) []byte {
	dst = append(dst, `,"ts_ms":`...)
	dst = strconv.AppendInt(dst, FloorDiv(us, 1000), 10)
	dst = append(dst, `,"ts_us":`...)
	dst = strconv.AppendInt(dst, us, 10)
	dst = append(dst, `,"ts_ns":`...)
	return strconv.AppendInt(dst, us*1000, 10)
}

func appendOptString(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

func appendOptInt(dst []byte, v int64) []byte {
	if v == 0 {
		return append(dst, "null"...)
	}
	return strconv.AppendInt(dst, v, 10)
}

// appendSource writes the source block in the field order of sourceSchemas[k].
func (enc *JSONEncoder) appendSource(dst []byte, s *Source, k connKind) []byte {
	dst = append(dst, `{"version":`...)
	dst = appendString(dst, s.Version)
	dst = append(dst, `,"connector":`...)
	dst = appendString(dst, s.Connector)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, s.Name)
	dst = append(dst, `,"ts_ms":`...)
	dst = strconv.AppendInt(dst, FloorDiv(s.TsUs, 1000), 10)
	dst = append(dst, `,"snapshot":`...)
	switch {
	case s.Snapshot != "" && s.Snapshot != "false":
		dst = appendString(dst, s.Snapshot)
	case enc.opts.KeepNulls:
		// Debezium never sets "false"; it is the schema default.
		dst = append(dst, "null"...)
	default:
		dst = append(dst, `"false"`...)
	}
	dst = append(dst, `,"db":`...)
	dst = appendString(dst, s.DB)
	dst = append(dst, `,"sequence":`...)
	dst = appendOptString(dst, s.Sequence)
	dst = append(dst, `,"ts_us":`...)
	dst = strconv.AppendInt(dst, s.TsUs, 10)
	dst = append(dst, `,"ts_ns":`...)
	dst = strconv.AppendInt(dst, s.TsUs*1000, 10)
	switch k {
	case connPostgres:
		dst = append(dst, `,"schema":`...)
		dst = appendString(dst, s.Schema)
		dst = append(dst, `,"table":`...)
		dst = appendString(dst, s.Table)
		dst = append(dst, `,"txId":`...)
		dst = appendOptInt(dst, s.TxID)
		dst = append(dst, `,"lsn":`...)
		dst = appendOptInt(dst, s.LSN)
		dst = append(dst, `,"xmin":`...)
		dst = appendOptInt(dst, s.Xmin)
		dst = append(dst, `,"origin":`...)
		dst = appendOptString(dst, s.Origin)
		dst = append(dst, `,"origin_lsn":`...)
		dst = appendOptInt(dst, s.OriginLSN)
	case connMySQL:
		dst = append(dst, `,"table":`...)
		dst = appendOptString(dst, s.Table)
		dst = append(dst, `,"server_id":`...)
		dst = strconv.AppendInt(dst, s.ServerID, 10)
		dst = append(dst, `,"gtid":`...)
		dst = appendOptString(dst, s.GTID)
		dst = append(dst, `,"file":`...)
		dst = appendString(dst, s.File)
		dst = append(dst, `,"pos":`...)
		dst = strconv.AppendInt(dst, s.Pos, 10)
		dst = append(dst, `,"row":`...)
		dst = strconv.AppendInt(dst, int64(s.Row), 10)
		dst = append(dst, `,"thread":`...)
		dst = appendOptInt(dst, s.Thread)
		dst = append(dst, `,"query":`...)
		dst = appendOptString(dst, s.Query)
	}
	return append(dst, '}')
}

func (enc *JSONEncoder) appendSchemaChange(dst []byte, e *Event) ([]byte, error) {
	k := connectorKind(e.Source.Connector)
	if k == connUnknown {
		return dst, fmt.Errorf("unknown connector %q", e.Source.Connector)
	}
	sc := e.SchemaChange
	if enc.opts.Schemas {
		dst = append(dst, `{"schema":`...)
		dst = append(dst, schemaChangeValBlocks[k]...)
		dst = append(dst, `,"payload":`...)
	}
	dst = append(dst, `{"source":`...)
	dst = enc.appendSource(dst, &e.Source, k)
	dst = append(dst, `,"ts_ms":`...)
	dst = strconv.AppendInt(dst, FloorDiv(e.TsUs, 1000), 10)
	dst = append(dst, `,"databaseName":`...)
	dst = appendOptString(dst, sc.DatabaseName)
	dst = append(dst, `,"schemaName":`...)
	dst = appendOptString(dst, sc.SchemaName)
	dst = append(dst, `,"ddl":`...)
	dst = appendOptString(dst, sc.DDL)
	dst = append(dst, `,"tableChanges":[`...)
	for i := range sc.TableChanges {
		tc := &sc.TableChanges[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"type":`...)
		dst = appendString(dst, tc.Type)
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, tc.ID)
		t := &tc.Table
		dst = append(dst, `,"table":{"defaultCharsetName":`...)
		dst = appendOptString(dst, t.DefaultCharsetName)
		dst = append(dst, `,"primaryKeyColumnNames":`...)
		dst = appendStrings(dst, t.PrimaryKeyColumnNames)
		dst = append(dst, `,"columns":[`...)
		for j := range t.Columns {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendColumn(dst, &t.Columns[j])
		}
		dst = append(dst, `],"comment":`...)
		dst = appendOptString(dst, t.Comment)
		dst = append(dst, "}}"...)
	}
	dst = append(dst, "]}"...)
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst, nil
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

func appendColumn(dst []byte, c *ColumnSchema) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, c.Name)
	dst = append(dst, `,"jdbcType":`...)
	dst = strconv.AppendInt(dst, int64(c.JdbcType), 10)
	dst = append(dst, `,"nativeType":`...)
	dst = appendOptInt(dst, int64(c.NativeType))
	dst = append(dst, `,"typeName":`...)
	dst = appendString(dst, c.TypeName)
	dst = append(dst, `,"typeExpression":`...)
	dst = appendOptString(dst, c.TypeExpression)
	dst = append(dst, `,"charsetName":`...)
	dst = appendOptString(dst, c.CharsetName)
	dst = append(dst, `,"length":`...)
	dst = appendOptInt(dst, int64(c.Length))
	dst = append(dst, `,"scale":`...)
	if c.Scale != nil {
		dst = strconv.AppendInt(dst, int64(*c.Scale), 10)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"position":`...)
	dst = strconv.AppendInt(dst, int64(c.Position), 10)
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, c.Optional)
	dst = append(dst, `,"autoIncremented":`...)
	dst = strconv.AppendBool(dst, c.AutoIncremented)
	dst = append(dst, `,"generated":`...)
	dst = strconv.AppendBool(dst, c.Generated)
	dst = append(dst, `,"comment":`...)
	dst = appendOptString(dst, c.Comment)
	dst = append(dst, `,"defaultValueExpression":`...)
	dst = appendOptString(dst, c.DefaultValue)
	dst = append(dst, `,"enumValues":`...)
	if len(c.EnumValues) > 0 {
		dst = appendStrings(dst, c.EnumValues)
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// appendStruct writes v's fields in the order of s.Fields.
func (enc *JSONEncoder) appendStruct(dst []byte, s *Schema, v *Struct) ([]byte, error) {
	if len(v.Values) != len(s.Fields) {
		return dst, fmt.Errorf("struct %s has %d values for %d fields", s.Name, len(v.Values), len(s.Fields))
	}
	names := enc.fieldNames(s)
	dst = append(dst, '{')
	var err error
	prev := 0
	for i := range s.Fields {
		f := &s.Fields[i]
		dst = append(dst, names.buf[prev:names.ends[i]]...)
		prev = names.ends[i]
		if dst, err = enc.appendValue(dst, f.Schema, v.Values[i]); err != nil {
			return dst, fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return append(dst, '}'), nil
}

func typeError(s *Schema, v any) error {
	return fmt.Errorf("%T value for %s schema %s", v, s.Type, s.Name)
}

// appendValue writes the physical value v of schema s as the JsonConverter
// does.
func (enc *JSONEncoder) appendValue(dst []byte, s *Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s.HasDefault && s.Default != nil && !enc.opts.KeepNulls:
			v = s.Default
		case s.Optional:
			return append(dst, "null"...), nil
		default:
			return dst, ErrNullRequired
		}
	}
	switch s.Type {
	case TypeInt8:
		if x, ok := v.(int8); ok {
			return strconv.AppendInt(dst, int64(x), 10), nil
		}
	case TypeInt16:
		if x, ok := v.(int16); ok {
			return strconv.AppendInt(dst, int64(x), 10), nil
		}
	case TypeInt32:
		if x, ok := v.(int32); ok {
			return strconv.AppendInt(dst, int64(x), 10), nil
		}
	case TypeInt64:
		if x, ok := v.(int64); ok {
			return strconv.AppendInt(dst, x, 10), nil
		}
	case TypeFloat32:
		if x, ok := v.(float32); ok {
			return appendJavaFloat(dst, float64(x), 32), nil
		}
	case TypeFloat64:
		if x, ok := v.(float64); ok {
			return appendJavaFloat(dst, x, 64), nil
		}
	case TypeBoolean:
		if x, ok := v.(bool); ok {
			return strconv.AppendBool(dst, x), nil
		}
	case TypeString:
		if x, ok := v.(string); ok {
			return appendString(dst, x), nil
		}
	case TypeBytes:
		if x, ok := v.([]byte); ok {
			return appendBytes(dst, x), nil
		}
	case TypeStruct:
		if x, ok := v.(*Struct); ok {
			if x == nil {
				return enc.appendValue(dst, s, nil)
			}
			return enc.appendStruct(dst, s, x)
		}
	case TypeArray:
		if x, ok := v.([]any); ok {
			if s.Items == nil {
				return dst, errors.New("array schema without items")
			}
			dst = append(dst, '[')
			var err error
			for i, el := range x {
				if i > 0 {
					dst = append(dst, ',')
				}
				if dst, err = enc.appendValue(dst, s.Items, el); err != nil {
					return dst, fmt.Errorf("[%d]: %w", i, err)
				}
			}
			return append(dst, ']'), nil
		}
	case TypeMap:
		return enc.appendMap(dst, s, v)
	default:
		return dst, fmt.Errorf("unknown schema type %q", s.Type)
	}
	return dst, typeError(s, v)
}

// appendMap writes a map as the JsonConverter does: a JSON object when the
// key schema is string, else an array of [key, value] pairs. Go maps are
// unordered, so entries are written sorted by key to keep the output
// deterministic.
func (enc *JSONEncoder) appendMap(dst []byte, s *Schema, v any) ([]byte, error) {
	if s.Keys == nil || s.Values == nil {
		return dst, errors.New("map schema without keys/values")
	}
	var err error
	if s.Keys.Type == TypeString {
		m, ok := v.(map[string]any)
		if !ok {
			return dst, typeError(s, v)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			if dst, err = enc.appendValue(dst, s.Values, m[k]); err != nil {
				return dst, fmt.Errorf("[%q]: %w", k, err)
			}
		}
		return append(dst, '}'), nil
	}
	m, ok := v.(map[any]any)
	if !ok {
		return dst, typeError(s, v)
	}
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	dst = append(dst, '[')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		if dst, err = enc.appendValue(dst, s.Keys, k); err != nil {
			return dst, fmt.Errorf("map key: %w", err)
		}
		dst = append(dst, ',')
		if dst, err = enc.appendValue(dst, s.Values, m[k]); err != nil {
			return dst, fmt.Errorf("map value: %w", err)
		}
		dst = append(dst, ']')
	}
	return append(dst, ']'), nil
}

// compareKeys orders physical map keys of one type.
func compareKeys(a, b any) int {
	switch x := a.(type) {
	case int8:
		if y, ok := b.(int8); ok {
			return cmp.Compare(x, y)
		}
	case int16:
		if y, ok := b.(int16); ok {
			return cmp.Compare(x, y)
		}
	case int32:
		if y, ok := b.(int32); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case float32:
		if y, ok := b.(float32); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(fmt.Sprintf("%T%v", a, a), fmt.Sprintf("%T%v", b, b))
}

// jsonTypeName is the JsonConverter's name of a schema type.
func jsonTypeName(t Type) (string, bool) {
	switch t {
	case TypeFloat32:
		return "float", true
	case TypeFloat64:
		return "double", true
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeBoolean, TypeString, TypeBytes,
		TypeArray, TypeMap, TypeStruct:
		return string(t), true
	}
	return "", false
}

// appendSchema writes s as JsonConverter.asJsonSchema does: "type", then
// "fields" / "items" / "keys","values", then "optional", "name", "version",
// "doc", "parameters", "default", and "field" (the field name, when s is a
// struct field's schema, isField) last.
func appendSchema(dst []byte, s *Schema, fieldName string, isField bool) ([]byte, error) {
	tn, ok := jsonTypeName(s.Type)
	if !ok {
		return dst, fmt.Errorf("unknown schema type %q", s.Type)
	}
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, tn)
	var err error
	switch s.Type {
	case TypeStruct:
		dst = append(dst, `,"fields":[`...)
		for i := range s.Fields {
			f := &s.Fields[i]
			if f.Schema == nil {
				return dst, fmt.Errorf("field %s has no schema", f.Name)
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendSchema(dst, f.Schema, f.Name, true); err != nil {
				return dst, fmt.Errorf("%s: %w", f.Name, err)
			}
		}
		dst = append(dst, ']')
	case TypeArray:
		if s.Items == nil {
			return dst, errors.New("array schema without items")
		}
		dst = append(dst, `,"items":`...)
		if dst, err = appendSchema(dst, s.Items, "", false); err != nil {
			return dst, err
		}
	case TypeMap:
		if s.Keys == nil || s.Values == nil {
			return dst, errors.New("map schema without keys/values")
		}
		dst = append(dst, `,"keys":`...)
		if dst, err = appendSchema(dst, s.Keys, "", false); err != nil {
			return dst, err
		}
		dst = append(dst, `,"values":`...)
		if dst, err = appendSchema(dst, s.Values, "", false); err != nil {
			return dst, err
		}
	}
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, s.Optional)
	if s.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, s.Name)
	}
	if s.Version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(s.Version), 10)
	}
	if s.Doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = appendString(dst, s.Doc)
	}
	if len(s.Parameters) > 0 {
		dst = append(dst, `,"parameters":{`...)
		for i, k := range orderedParams(s.Parameters) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendString(dst, s.Parameters[k])
		}
		dst = append(dst, '}')
	}
	if s.HasDefault && s.Default != nil {
		dst = append(dst, `,"default":`...)
		var enc JSONEncoder // defaults are written as they are, no replacement
		if dst, err = enc.appendValue(dst, s, s.Default); err != nil {
			return dst, fmt.Errorf("default: %w", err)
		}
	}
	if isField {
		dst = append(dst, `,"field":`...)
		dst = appendString(dst, fieldName)
	}
	return append(dst, '}'), nil
}

// orderedParams returns the parameter keys: the well-known ones in
// Debezium's insertion order, then the others sorted.
func orderedParams(p map[string]string) []string {
	keys := make([]string, 0, len(p))
	for _, k := range paramOrder {
		if _, ok := p[k]; ok {
			keys = append(keys, k)
		}
	}
	n := len(keys)
	for k := range p {
		if !slices.Contains(paramOrder[:], k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys[n:])
	return keys
}
