package postgres

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/sources"
)

// Column describes one column of a captured table, in relation order.
type Column struct {
	Name     string
	TypeOID  uint32 // pg_attribute.atttypid; for a domain, its base type
	TypeName string // pg_type.typname: "int4", "numeric", "_text", "mood" (enum), "citext", ...
	Typmod   int32  // atttypmod (a domain's typtypmod), -1 if none
	Nullable bool
	// Key marks a column of the message key: the primary key (or the
	// replica identity index when the catalog is unavailable), unless
	// DecoderOptions.MessageKeyColumns names the key columns of the table.
	Key bool
	// KeySeq is the 1-based position of a Key column in the primary key
	// (pg_index.indkey order), which is the order of the key struct's
	// fields. Key columns with KeySeq 0 follow, in column order.
	KeySeq int
	// EnumValues holds the labels of an enum type in enumsortorder; for an
	// array of an enum, the element type's labels. It is non-nil exactly
	// for enum types and arrays of them.
	EnumValues []string
	// ElemOID and ElemTypeName describe an array's element type (0 and ""
	// for non-arrays; filled from the built-in types when only the OID is
	// known).
	ElemOID      uint32
	ElemTypeName string
	// Default is the column's default expression (pg_get_expr of
	// pg_attrdef.adbin), "" for none.
	Default string
}

// Table is the definition of a captured table.
type Table struct {
	RelationID      uint32
	Schema, Name    string
	Columns         []Column
	ReplicaIdentity byte // 'd' default, 'f' full, 'i' index, 'n' nothing
}

// DecoderOptions configures the event shape. Zero values select Debezium's
// defaults.
type DecoderOptions struct {
	TopicPrefix string // topic.prefix; also source.name
	Database    string // source.db
	Version     string // source.version
	// DecimalMode is decimal.handling.mode: precise (default), double, string.
	DecimalMode string
	// TimePrecisionMode is time.precision.mode: adaptive (default),
	// adaptive_time_microseconds, connect.
	TimePrecisionMode string
	// IntervalMode is interval.handling.mode: numeric (default), string.
	IntervalMode string
	// BinaryMode is binary.handling.mode: bytes (default), base64,
	// base64-url-safe, hex.
	BinaryMode string
	// UnavailablePlaceholder is unavailable.value.placeholder, the value of
	// unchanged TOAST columns (default "__debezium_unavailable_value"; a
	// "hex:" prefix gives the bytes in hex).
	UnavailablePlaceholder string
	// IncludeUnknownTypes is include.unknown.datatypes: columns of types
	// without a mapping are sent as their text's bytes (per BinaryMode)
	// instead of being left out.
	IncludeUnknownTypes bool
	// Tombstones is tombstones.on.delete: a delete is followed by a
	// tombstone (same key, null value).
	Tombstones bool
	// TransactionMetadata is provide.transaction.metadata: row events get
	// the transaction block.
	TransactionMetadata bool
	// MessageKeyColumns is message.key.columns: "schema.table" (a regular
	// expression matched against the whole name, case-insensitively) to
	// the key columns (regular expressions too), in key order. A table no
	// entry's columns match keeps its primary key.
	MessageKeyColumns map[string][]string
	// Now returns the processing time for events' ts_ms (default time.Now).
	Now func() time.Time
	// OnConversionWarning, when set, is told about values Debezium's
	// default event.converting.failure.handling.mode=warn turns into null
	// (NaN in a precise decimal column, a TOAST placeholder a column's type
	// cannot hold).
	OnConversionWarning func(table, column string, err error)
}

// Validate reports an invalid mode or placeholder.
func (o DecoderOptions) Validate() error {
	_, err := newConfig(&o)
	return err
}

// Decoder turns pgoutput messages and snapshot rows into change events.
// One Decoder serves one connector; it is not safe for concurrent use.
type Decoder struct {
	opts   DecoderOptions
	cfg    *config
	cfgErr error
	keyMap []keyOverride

	tables map[uint32]*tableState
	byName map[string]uint32 // "schema.table" -> relation ID of the latest definition

	inTx       bool
	xid        uint32
	commitUs   int64
	txSeq      uint64
	totalOrder int64
	lastCommit pglogrepl.LSN

	seqLSN pglogrepl.LSN // cache of the source.sequence of seqLSN
	seq    string

	// snap holds the strings and bytes of snapshot rows (ReadRow), many
	// rows to a buffer; snapSeq is the source.sequence of snapshot rows at
	// snapSeqLSN after commit snapSeqLast.
	snap        arena
	snapSeq     string
	snapSeqLSN  pglogrepl.LSN
	snapSeqLast pglogrepl.LSN
}

// snapArenaSize is the size of the buffers snapshot rows share.
const snapArenaSize = 64 << 10

type keyOverride struct {
	table   *regexp.Regexp
	columns []*regexp.Regexp
}

// tableState is a compiled table definition.
type tableState struct {
	def       Table
	id        string // "schema.table"
	topic     string
	rowSchema *change.Schema
	keySchema *change.Schema // nil: no message key
	cols      []codec        // per relation column
	field     []int          // relation column -> row field, -1 when left out
	keyField  []int          // key field -> row field
	nfields   int

	txSeq   uint64 // transaction of txOrder
	txOrder int64  // data_collection_order within transaction txSeq

	// chunks is where snapshot rows are allocated, many at a time
	// (allocChunked).
	chunks change.StructChunks
}

// NewDecoder returns a decoder. Invalid options are reported by SetTable
// (and by DecoderOptions.Validate).
func NewDecoder(opts DecoderOptions) *Decoder {
	d := &Decoder{opts: opts, tables: map[uint32]*tableState{}, byName: map[string]uint32{}}
	d.cfg, d.cfgErr = newConfig(&d.opts)
	if d.opts.Now == nil {
		d.opts.Now = time.Now
	}
	keys := make([]string, 0, len(opts.MessageKeyColumns))
	for k := range opts.MessageKeyColumns {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ko := keyOverride{table: anchoredRegexp(k)}
		for _, c := range opts.MessageKeyColumns[k] {
			ko.columns = append(ko.columns, anchoredRegexp(strings.TrimSpace(c)))
		}
		d.keyMap = append(d.keyMap, ko)
	}
	return d
}

// anchoredRegexp compiles a whole-string, case-insensitive match of p, or of
// p literally when it is not a valid expression.
func anchoredRegexp(p string) *regexp.Regexp {
	re, err := regexp.Compile(`(?i)^(?:` + p + `)$`)
	if err != nil {
		re = regexp.MustCompile(`(?i)^` + regexp.QuoteMeta(p) + `$`)
	}
	return re
}

// SetLastCommitLSN sets the commit LSN written as the first element of
// source.sequence until the next Commit; the connection code restores it
// from the stored offset on restart.
func (d *Decoder) SetLastCommitLSN(lsn pglogrepl.LSN) {
	d.lastCommit = lsn
	d.seqLSN, d.seq = 0, ""
}

// Table returns the current definition of a relation.
func (d *Decoder) Table(relationID uint32) (Table, bool) {
	t, ok := d.tables[relationID]
	if !ok {
		return Table{}, false
	}
	return t.def, true
}

// TableFromRelation merges a pgoutput relation message, which is
// authoritative for the column list, order, type OIDs, type modifiers and
// the table's name, with catalog information (nullability, type names,
// enum labels, element types, defaults, primary key), matched by column
// name. catalog may be nil or stale: a column it does not describe is
// nullable and its type name comes from the built-in types. Without a
// catalog, the key is the replica identity the relation message flags —
// except with REPLICA IDENTITY FULL, which flags every column.
func TableFromRelation(rel *pglogrepl.RelationMessage, catalog *Table) Table {
	t := Table{RelationID: rel.RelationID, Schema: rel.Namespace, Name: rel.RelationName, ReplicaIdentity: rel.ReplicaIdentity}
	byName := map[string]*Column{}
	if catalog != nil {
		for i := range catalog.Columns {
			byName[catalog.Columns[i].Name] = &catalog.Columns[i]
		}
	}
	t.Columns = make([]Column, 0, len(rel.Columns))
	for _, rc := range rel.Columns {
		if rc == nil {
			continue
		}
		c := Column{Name: rc.Name, TypeOID: rc.DataType, Typmod: rc.TypeModifier, Nullable: true}
		cc, known := byName[rc.Name]
		if known {
			c.Nullable = cc.Nullable
			c.Key, c.KeySeq = cc.Key, cc.KeySeq
		} else if catalog == nil && rel.ReplicaIdentity != 'f' {
			c.Key = rc.Flags&1 != 0
		}
		if known && cc.TypeOID == rc.DataType {
			c.TypeName = cc.TypeName
			c.EnumValues = cc.EnumValues
			c.ElemOID, c.ElemTypeName = cc.ElemOID, cc.ElemTypeName
			c.Default = cc.Default
		} else {
			// A domain is described by its base type in the catalog
			// while the relation message carries the domain's OID;
			// otherwise the catalog is stale for this column.
			if known && builtinTypes[rc.DataType].name == "" {
				c.TypeOID = cc.TypeOID
				c.TypeName = cc.TypeName
				c.EnumValues = cc.EnumValues
				c.ElemOID, c.ElemTypeName = cc.ElemOID, cc.ElemTypeName
				c.Default = cc.Default
				if c.Typmod < 0 {
					c.Typmod = cc.Typmod
				}
			} else {
				c.TypeName = builtinTypes[rc.DataType].name
				c.ElemOID = builtinTypes[rc.DataType].elem
				if c.ElemOID != 0 {
					c.ElemTypeName = builtinTypes[c.ElemOID].name
				}
			}
		}
		t.Columns = append(t.Columns, c)
	}
	return t
}

// SetTable registers or replaces the definition of a relation and compiles
// its schemas and decoders. When a known table (same relation ID, or same
// name under a new ID) changed — columns added, dropped, renamed, retyped,
// a different type modifier, nullability, default, key or enum labels, or
// the table renamed — it returns a schema-change event for the topic
// <prefix>. It returns nil on first registration and when nothing changed.
func (d *Decoder) SetTable(t Table) (*change.Event, error) {
	if d.cfgErr != nil {
		return nil, d.cfgErr
	}
	if t.Schema == "" || t.Name == "" {
		return nil, fmt.Errorf("relation %d: schema and table name are required", t.RelationID)
	}
	seen := make(map[string]bool, len(t.Columns))
	for i, c := range t.Columns {
		if c.Name == "" {
			return nil, fmt.Errorf("%s.%s: column %d has no name", t.Schema, t.Name, i+1)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%s.%s: duplicate column %q", t.Schema, t.Name, c.Name)
		}
		seen[c.Name] = true
	}
	id := t.Schema + "." + t.Name
	prev := d.tables[t.RelationID]
	if prev == nil {
		if rid, ok := d.byName[id]; ok {
			prev = d.tables[rid]
		}
	}
	if prev != nil && prev.def.RelationID == t.RelationID && sameDefinition(prev.def, t) {
		prev.def.ReplicaIdentity = t.ReplicaIdentity
		return nil, nil
	}
	st, err := d.compileTable(t)
	if err != nil {
		return nil, err
	}
	var ev *change.Event
	if prev != nil {
		if prev.def.RelationID == t.RelationID {
			st.txSeq, st.txOrder = prev.txSeq, prev.txOrder
			if prev.id != id {
				delete(d.byName, prev.id)
			}
		}
		if !sameDefinition(prev.def, t) {
			ev = d.schemaChange(st)
		}
	}
	d.tables[t.RelationID] = st
	d.byName[id] = t.RelationID
	return ev, nil
}

func sameDefinition(a, b Table) bool {
	if a.Schema != b.Schema || a.Name != b.Name || len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		x, y := a.Columns[i], b.Columns[i]
		if x.Name != y.Name || x.TypeOID != y.TypeOID || x.TypeName != y.TypeName || x.Typmod != y.Typmod ||
			x.Nullable != y.Nullable || x.Key != y.Key || x.KeySeq != y.KeySeq || x.ElemOID != y.ElemOID ||
			x.ElemTypeName != y.ElemTypeName || x.Default != y.Default ||
			(x.EnumValues == nil) != (y.EnumValues == nil) || !slices.Equal(x.EnumValues, y.EnumValues) {
			return false
		}
	}
	return true
}

func (d *Decoder) compileTable(t Table) (*tableState, error) {
	st := &tableState{
		def:   t,
		id:    t.Schema + "." + t.Name,
		topic: change.TopicFor(d.opts.TopicPrefix, t.Schema, t.Name),
		cols:  make([]codec, len(t.Columns)),
		field: make([]int, len(t.Columns)),
	}
	st.def.Columns = slices.Clone(t.Columns)
	var fields []change.Field
	for i, c := range t.Columns {
		cd, err := compileColumn(c, d.cfg)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Schema, t.Name, err)
		}
		st.cols[i] = cd
		st.field[i] = -1
		if cd.schema == nil {
			continue
		}
		st.field[i] = len(fields)
		fields = append(fields, change.Field{Name: c.Name, Schema: cd.schema})
	}
	st.nfields = len(fields)
	st.rowSchema = structSchema(change.ValueSchemaName(st.topic), fields, true)
	if keyCols := d.keyColumns(t); len(keyCols) > 0 {
		var kf []change.Field
		for _, i := range keyCols {
			if f := st.field[i]; f >= 0 {
				kf = append(kf, fields[f])
				st.keyField = append(st.keyField, f)
			}
		}
		st.keySchema = structSchema(change.KeySchemaName(st.topic), kf, false)
	}
	return st, nil
}

// structSchema is a table's key or row struct schema.
func structSchema(name string, fields []change.Field, optional bool) *change.Schema {
	return &change.Schema{Type: change.TypeStruct, Name: name, Optional: optional, Fields: fields}
}

// keyColumns returns the relation column indices of the message key in
// key order: message.key.columns when an entry matches the table and any
// of its columns, else the Key columns by KeySeq.
func (d *Decoder) keyColumns(t Table) []int {
	id := t.Schema + "." + t.Name
	var out []int
	for _, ko := range d.keyMap {
		if !ko.table.MatchString(id) {
			continue
		}
		for _, re := range ko.columns {
			for i, c := range t.Columns {
				if re.MatchString(c.Name) && !slices.Contains(out, i) {
					out = append(out, i)
				}
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for i, c := range t.Columns {
		if c.Key {
			out = append(out, i)
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		sa, sb := t.Columns[out[a]].KeySeq, t.Columns[out[b]].KeySeq
		if sa == 0 || sb == 0 {
			return sa != 0 && sb == 0
		}
		return sa < sb
	})
	return out
}

// ---- transactions ---------------------------------------------------------------

// Begin starts a transaction: its events carry the XID and the commit time
// the BEGIN message announces (Debezium's source.ts_ms is the commit time).
func (d *Decoder) Begin(b *pglogrepl.BeginMessage) {
	d.inTx = true
	d.txSeq++
	d.totalOrder = 0
	if b != nil {
		d.xid = b.Xid
		d.commitUs = b.CommitTime.UnixMicro()
	}
}

// Commit ends the transaction. Its end LSN — the WAL position Debezium
// records for the COMMIT message — becomes the first element of
// source.sequence for the events of the transactions that follow.
func (d *Decoder) Commit(c *pglogrepl.CommitMessage) {
	d.inTx = false
	if c != nil {
		d.lastCommit = c.TransactionEndLSN
		d.seqLSN, d.seq = 0, ""
	}
}

// ---- row events -------------------------------------------------------------------

var errNoTuple = errors.New("message has no tuple data")

func (d *Decoder) table(relID uint32) (*tableState, error) {
	if d.cfgErr != nil {
		return nil, d.cfgErr
	}
	t, ok := d.tables[relID]
	if !ok {
		return nil, fmt.Errorf("relation %d was not announced by a relation message", relID)
	}
	return t, nil
}

// rowTable returns the table of a row message of kind op ("insert",
// "update", "delete"); the message must carry the tuple tup.
func (d *Decoder) rowTable(relID uint32, tup *pglogrepl.TupleData, op string) (*tableState, error) {
	t, err := d.table(relID)
	if err != nil {
		return nil, err
	}
	if tup == nil {
		return nil, fmt.Errorf("%s: %s: %w", t.id, op, errNoTuple)
	}
	return t, nil
}

// Insert decodes an insert into a create event.
func (d *Decoder) Insert(m *pglogrepl.InsertMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	return d.AppendInsert(make([]change.Event, 0, 1), m, lsn)
}

// Update decodes an update into an update event, or into delete
// (+ tombstone) and create events when the message key changed.
func (d *Decoder) Update(m *pglogrepl.UpdateMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	return d.AppendUpdate(make([]change.Event, 0, 1), m, lsn)
}

// Delete decodes a delete into a delete event and, with Tombstones, a
// tombstone.
func (d *Decoder) Delete(m *pglogrepl.DeleteMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	return d.AppendDelete(make([]change.Event, 0, 2), m, lsn)
}

// Truncate decodes a truncate into one truncate event per table.
func (d *Decoder) Truncate(m *pglogrepl.TruncateMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	return d.AppendTruncate(nil, m, lsn)
}

// AppendInsert is Insert appending to dst.
func (d *Decoder) AppendInsert(dst []change.Event, m *pglogrepl.InsertMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	if m == nil {
		return dst, errNoTuple
	}
	t, err := d.rowTable(m.RelationID, m.Tuple, "insert")
	if err != nil {
		return dst, err
	}
	a := t.newArena(m.Tuple, nil)
	after, key, err := d.decodeTuple(t, m.Tuple, nil, nil, a)
	if err != nil {
		return dst, fmt.Errorf("insert: %w", err)
	}
	return append(dst, change.Event{
		Topic: t.topic, Op: change.OpCreate, Key: key, RowSchema: t.rowSchema,
		After: after, Source: d.source(t, lsn, a), TsUs: d.opts.Now().UnixMicro(), Transaction: d.txBlock(t, lsn, a),
	}), nil
}

// AppendUpdate is Update appending to dst.
//
// Debezium's before image is the old tuple: all columns with REPLICA
// IDENTITY FULL, the key columns (others null, or their fallback when NOT
// NULL) when the identity key changed, and null when pgoutput sends no old
// tuple (identity DEFAULT or INDEX and the key unchanged, NOTHING).
func (d *Decoder) AppendUpdate(dst []change.Event, m *pglogrepl.UpdateMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	if m == nil {
		return dst, errNoTuple
	}
	t, err := d.rowTable(m.RelationID, m.NewTuple, "update")
	if err != nil {
		return dst, err
	}
	var old *pglogrepl.TupleData
	if m.OldTuple != nil {
		if m.OldTupleType != pglogrepl.UpdateMessageTupleTypeKey && m.OldTupleType != pglogrepl.UpdateMessageTupleTypeOld {
			return dst, fmt.Errorf("%s: update: invalid old tuple type %q", t.id, m.OldTupleType)
		}
		old = m.OldTuple
	}
	a := t.newArena(m.NewTuple, old)
	var before, oldKey *change.Struct
	if old != nil {
		if before, oldKey, err = d.decodeTuple(t, old, nil, nil, a); err != nil {
			return dst, fmt.Errorf("update (old tuple): %w", err)
		}
	}
	after, newKey, err := d.decodeTuple(t, m.NewTuple, old, before, a)
	if err != nil {
		return dst, fmt.Errorf("update: %w", err)
	}
	src := d.source(t, lsn, a)
	ts := d.opts.Now().UnixMicro()
	// Both keys have t.keySchema, so Struct.Equal compares their values as
	// Connect's Struct.equals does.
	if oldKey == nil || oldKey.Equal(newKey) {
		return append(dst, change.Event{
			Topic: t.topic, Op: change.OpUpdate, Key: newKey, RowSchema: t.rowSchema,
			Before: before, After: after, Source: src, TsUs: ts, Transaction: d.txBlock(t, lsn, a),
		}), nil
	}
	// A primary-key change: delete of the old key (with the Kafka header
	// __debezium.newkey = newKey on it and its tombstone), then create of
	// the new key (header __debezium.oldkey = oldKey). The headers need
	// change.Event.Headers, which does not exist yet.
	dst = d.appendDelete(dst, t, oldKey, before, src, ts, lsn, a)
	return append(dst, change.Event{
		Topic: t.topic, Op: change.OpCreate, Key: newKey, RowSchema: t.rowSchema,
		After: after, Source: src, TsUs: ts, Transaction: d.txBlock(t, lsn, a),
	}), nil
}

// AppendDelete is Delete appending to dst. The before image is the old
// tuple: the key columns (others null or their NOT NULL fallback) with
// REPLICA IDENTITY DEFAULT or INDEX, all columns with FULL.
func (d *Decoder) AppendDelete(dst []change.Event, m *pglogrepl.DeleteMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	if m == nil {
		return dst, errNoTuple
	}
	t, err := d.rowTable(m.RelationID, m.OldTuple, "delete")
	if err != nil {
		return dst, err
	}
	a := t.newArena(m.OldTuple, nil)
	before, key, err := d.decodeTuple(t, m.OldTuple, nil, nil, a)
	if err != nil {
		return dst, fmt.Errorf("delete: %w", err)
	}
	src := d.source(t, lsn, a)
	ts := d.opts.Now().UnixMicro()
	return d.appendDelete(dst, t, key, before, src, ts, lsn, a), nil
}

// appendDelete appends the delete event of key, with the before image
// before, and with Tombstones its tombstone.
func (d *Decoder) appendDelete(dst []change.Event, t *tableState, key, before *change.Struct, src change.Source, ts int64, lsn pglogrepl.LSN, a *arena) []change.Event {
	dst = append(dst, change.Event{
		Topic: t.topic, Op: change.OpDelete, Key: key, RowSchema: t.rowSchema,
		Before: before, Source: src, TsUs: ts, Transaction: d.txBlock(t, lsn, a),
	})
	if d.opts.Tombstones {
		dst = append(dst, change.Event{Topic: t.topic, Key: key, Source: src, TsUs: ts, Tombstone: true})
	}
	return dst
}

// AppendTruncate is Truncate appending to dst: one op "t" event per table,
// with null key, before and after.
func (d *Decoder) AppendTruncate(dst []change.Event, m *pglogrepl.TruncateMessage, lsn pglogrepl.LSN) ([]change.Event, error) {
	if m == nil {
		return dst, errNoTuple
	}
	ts := d.opts.Now().UnixMicro()
	n := len(dst)
	for _, rel := range m.RelationIDs {
		t, err := d.table(rel)
		if err != nil {
			return dst[:n], fmt.Errorf("truncate: %w", err)
		}
		dst = append(dst, change.Event{
			Topic: t.topic, Op: change.OpTruncate, RowSchema: t.rowSchema,
			Source: d.source(t, lsn, nil), TsUs: ts, Transaction: d.txBlock(t, lsn, nil),
		})
	}
	return dst, nil
}

// SnapshotFormats returns the result format to read each column of a
// table in for ReadRow: 1 (binary) for the columns whose binary format the
// decoder reads (fixed-width types, see binary.go), 0 (text) for the rest.
func (d *Decoder) SnapshotFormats(relID uint32) ([]int16, error) {
	t, err := d.table(relID)
	if err != nil {
		return nil, err
	}
	formats := make([]int16, len(t.cols))
	for i := range t.cols {
		if t.field[i] >= 0 && t.cols[i].binary != nil {
			formats[i] = 1
		}
	}
	return formats, nil
}

// ReadRow decodes a snapshot row — the table's columns in order, nil for
// NULL, each in the format formats gives (1 binary, 0 text; nil: all
// text) — into a read event. src carries the snapshot's position
// (snapshot marker, ts, LSN, txId, xmin); the decoder fills in version,
// connector, name, db, schema and table, and the sequence when src has
// none. The values are copied; the caller may reuse them.
func (d *Decoder) ReadRow(relID uint32, values [][]byte, formats []int16, src change.Source) (change.Event, error) {
	t, err := d.table(relID)
	if err != nil {
		return change.Event{}, err
	}
	if len(values) != len(t.cols) {
		return change.Event{}, fmt.Errorf("%s: snapshot row has %d values, the table has %d columns", t.id, len(values), len(t.cols))
	}
	if formats != nil && len(formats) != len(t.cols) {
		return change.Event{}, fmt.Errorf("%s: snapshot row has %d formats, the table has %d columns", t.id, len(formats), len(t.cols))
	}
	total := arenaRowSlack
	for _, v := range values {
		total += len(v) + arenaColumnSlack
	}
	a := &d.snap
	if cap(a.buf)-len(a.buf) < total {
		a.buf = make([]byte, 0, max(snapArenaSize, total))
	}
	row, key := t.allocChunked()
	for i := range t.cols {
		f := t.field[i]
		if f < 0 {
			continue
		}
		var v any
		if formats != nil && formats[i] == 1 && values[i] != nil {
			v, err = d.binaryValue(t, i, values[i], a)
		} else {
			v, err = d.columnValue(t, i, values[i] == nil, values[i], a)
		}
		if err != nil {
			return change.Event{}, err
		}
		row.Values[f] = v
	}
	src.Version = d.opts.Version
	src.Connector = connectorName
	src.Name = d.opts.TopicPrefix
	src.DB = d.opts.Database
	src.Schema, src.Table = t.def.Schema, t.def.Name
	if src.Sequence == "" {
		lsn := pglogrepl.LSN(src.LSN)
		if d.snapSeq == "" || d.snapSeqLSN != lsn || d.snapSeqLast != d.lastCommit {
			d.snapSeq, d.snapSeqLSN, d.snapSeqLast = sequence(d.lastCommit, lsn, nil), lsn, d.lastCommit
		}
		src.Sequence = d.snapSeq
	}
	return change.Event{
		Topic: t.topic, Op: change.OpRead, Key: t.fillKey(row, key), RowSchema: t.rowSchema,
		After: row, Source: src, TsUs: sources.SnapshotTs(src, d.opts.Now),
	}, nil
}

// alloc returns the row struct and key struct (nil without a key) of a new
// row, with their value slices, backed by two allocations.
func (t *tableState) alloc() (row, key *change.Struct) {
	return change.NewRowAndKey(t.rowSchema, t.nfields, t.keySchema, len(t.keyField))
}

// allocChunked is alloc for a snapshot row, taken from chunks of many
// rows (change.StructChunks): the rows are encoded and dropped in the
// order they were read.
func (t *tableState) allocChunked() (row, key *change.Struct) {
	return t.chunks.Next(t.rowSchema, t.nfields, t.keySchema, len(t.keyField))
}

// fillKey copies the key fields of row into key.
func (t *tableState) fillKey(row, key *change.Struct) *change.Struct {
	if key == nil {
		return nil
	}
	for i, f := range t.keyField {
		key.Values[i] = row.Values[f]
	}
	return key
}

// arenaSlack is the arena space reserved per row for the sequence and the
// transaction id, and per column for formatted values.
const (
	arenaRowSlack    = 112
	arenaColumnSlack = 16
)

// newArena sizes one buffer for the strings and bytes of up to two tuples.
func (t *tableState) newArena(a, b *pglogrepl.TupleData) *arena {
	total := arenaRowSlack
	for _, tup := range [2]*pglogrepl.TupleData{a, b} {
		if tup == nil {
			continue
		}
		for _, c := range tup.Columns {
			if c != nil {
				total += len(c.Data) + arenaColumnSlack
			}
		}
	}
	return &arena{buf: make([]byte, 0, total)}
}

// decodeTuple decodes a pgoutput tuple into a row and its key. For a new
// tuple of an update, old/oldRow are the old tuple and its row: an
// unchanged TOAST column takes the old tuple's value when it has one
// (REPLICA IDENTITY FULL), as Debezium does, else the placeholder.
func (d *Decoder) decodeTuple(t *tableState, tup, old *pglogrepl.TupleData, oldRow *change.Struct, a *arena) (*change.Struct, *change.Struct, error) {
	if len(tup.Columns) != len(t.cols) {
		return nil, nil, fmt.Errorf("%s: tuple has %d columns, the relation has %d", t.id, len(tup.Columns), len(t.cols))
	}
	row, key := t.alloc()
	vals := row.Values
	for i, col := range tup.Columns {
		f := t.field[i]
		if f < 0 {
			continue
		}
		if col == nil {
			return nil, nil, fmt.Errorf("%s.%s: missing tuple column", t.id, t.def.Columns[i].Name)
		}
		var v any
		var err error
		switch col.DataType {
		case pglogrepl.TupleDataTypeText:
			v, err = d.columnValue(t, i, false, col.Data, a)
		case pglogrepl.TupleDataTypeNull:
			v, err = d.columnValue(t, i, true, nil, a)
		case pglogrepl.TupleDataTypeToast:
			if oldRow != nil && i < len(old.Columns) && old.Columns[i] != nil && old.Columns[i].DataType == pglogrepl.TupleDataTypeText {
				v = oldRow.Values[f]
			} else {
				v, err = d.toastValue(t, i)
			}
		case pglogrepl.TupleDataTypeBinary:
			err = fmt.Errorf("%s.%s: binary tuple data is not supported (start replication without the binary option)", t.id, t.def.Columns[i].Name)
		default:
			err = fmt.Errorf("%s.%s: unknown tuple data type %q", t.id, t.def.Columns[i].Name, col.DataType)
		}
		if err != nil {
			return nil, nil, err
		}
		vals[f] = v
	}
	return row, t.fillKey(row, key), nil
}

// columnValue decodes one column; null marks SQL NULL.
func (d *Decoder) columnValue(t *tableState, i int, null bool, text []byte, a *arena) (any, error) {
	cd := &t.cols[i]
	if null {
		if t.def.Columns[i].Nullable {
			return nil, nil
		}
		return cd.fallback, nil
	}
	v, err := cd.decode(text, a)
	return d.decoded(t, i, v, err, text, false)
}

// binaryValue is columnValue for a non-NULL value in binary format.
func (d *Decoder) binaryValue(t *tableState, i int, b []byte, a *arena) (any, error) {
	dec := t.cols[i].binary
	if dec == nil {
		c := t.def.Columns[i]
		return nil, fmt.Errorf("%s.%s (%s): binary format not read for this type", t.id, c.Name, typeLabel(c))
	}
	v, err := dec(b, a)
	return d.decoded(t, i, v, err, b, true)
}

// decoded applies the outcome of decoding raw (binary or text) in column
// i: the value, Debezium's warn mode for a value the type cannot
// represent, or an error naming the column and quoting raw.
func (d *Decoder) decoded(t *tableState, i int, v any, err error, raw []byte, binary bool) (any, error) {
	if err == nil {
		return v, nil
	}
	var ce *conversionError
	if errors.As(err, &ce) {
		return d.unrepresentable(t, i, err)
	}
	c := t.def.Columns[i]
	if binary {
		return nil, fmt.Errorf("%s.%s (%s): %w: binary % x", t.id, c.Name, typeLabel(c), err, raw[:min(len(raw), 16)])
	}
	return nil, fmt.Errorf("%s.%s (%s): %w: %s", t.id, c.Name, typeLabel(c), err, quoteTrunc(raw))
}

func (d *Decoder) toastValue(t *tableState, i int) (any, error) {
	cd := &t.cols[i]
	if cd.toastErr == nil {
		return cd.toast, nil
	}
	return d.unrepresentable(t, i, cd.toastErr)
}

// unrepresentable applies Debezium's warn mode: null for an optional
// column, an error for a required one.
func (d *Decoder) unrepresentable(t *tableState, i int, err error) (any, error) {
	c := t.def.Columns[i]
	if c.Nullable {
		if d.opts.OnConversionWarning != nil {
			d.opts.OnConversionWarning(t.id, c.Name, err)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%s.%s (%s) is NOT NULL but its value cannot be represented: %w", t.id, c.Name, typeLabel(c), err)
}

// source is the source block of a streamed event.
func (d *Decoder) source(t *tableState, lsn pglogrepl.LSN, a *arena) change.Source {
	if d.seqLSN != lsn || d.seq == "" {
		d.seqLSN, d.seq = lsn, sequence(d.lastCommit, lsn, a)
	}
	s := change.Source{
		Version:   d.opts.Version,
		Connector: connectorName,
		Name:      d.opts.TopicPrefix,
		TsUs:      d.commitUs,
		Snapshot:  "false",
		DB:        d.opts.Database,
		Sequence:  d.seq,
		Schema:    t.def.Schema,
		Table:     t.def.Name,
		LSN:       int64(lsn),
	}
	if d.inTx {
		s.TxID = int64(d.xid)
	}
	return s
}

// sequence is Debezium's source.sequence: ["<last commit LSN>","<LSN>"],
// decimal, null for an unknown position.
func sequence(lastCommit, lsn pglogrepl.LSN, a *arena) string {
	buf := make([]byte, 0, 48)
	buf = append(buf, '[')
	buf = appendLSN(buf, lastCommit)
	buf = append(buf, ',')
	buf = appendLSN(buf, lsn)
	buf = append(buf, ']')
	return a.str(buf)
}

func appendLSN(buf []byte, lsn pglogrepl.LSN) []byte {
	if lsn == 0 {
		return append(buf, "null"...)
	}
	buf = append(buf, '"')
	buf = strconv.AppendUint(buf, uint64(lsn), 10)
	return append(buf, '"')
}

// txBlock is the transaction block of the next data event of t:
// id "<xid>:<LSN of the event>" as Debezium's PostgresTransactionMonitor
// writes it, total_order and data_collection_order counted from 1.
func (d *Decoder) txBlock(t *tableState, lsn pglogrepl.LSN, a *arena) *change.Transaction {
	if !d.opts.TransactionMetadata || !d.inTx {
		return nil
	}
	d.totalOrder++
	if t.txSeq != d.txSeq {
		t.txSeq, t.txOrder = d.txSeq, 0
	}
	t.txOrder++
	buf := make([]byte, 0, 32)
	buf = strconv.AppendUint(buf, uint64(d.xid), 10)
	buf = append(buf, ':')
	buf = strconv.AppendUint(buf, uint64(lsn), 10)
	return &change.Transaction{ID: a.str(buf), TotalOrder: d.totalOrder, DataCollectionOrder: t.txOrder}
}

// ---- schema changes ----------------------------------------------------------------

// schemaChange builds the schema-change event of a changed table. Debezium's
// PostgreSQL connector does not emit these; sluice writes them in the
// format Debezium's MySQL connector uses, without DDL (pgoutput has none).
func (d *Decoder) schemaChange(st *tableState) *change.Event {
	t := st.def
	ts := TableSchemaOf(t)
	src := change.Source{
		Version: d.opts.Version, Connector: connectorName, Name: d.opts.TopicPrefix,
		Snapshot: "false", DB: d.opts.Database, Schema: t.Schema, Table: t.Name,
		Sequence: sequence(d.lastCommit, 0, nil),
	}
	if d.inTx {
		src.TsUs = d.commitUs
		src.TxID = int64(d.xid)
	}
	return &change.Event{
		// TopicFor, not SchemaChangeTopic: a blank prefix gives "" (SchemaChangeTopic would sanitise it).
		Topic:  change.TopicFor(d.opts.TopicPrefix, "", ""),
		Source: src,
		TsUs:   d.opts.Now().UnixMicro(),
		SchemaChange: &change.SchemaChange{
			DatabaseName: d.opts.Database,
			SchemaName:   t.Schema,
			TableChanges: []change.TableChange{{
				Type:  "ALTER",
				ID:    dquote(t.Schema) + "." + dquote(t.Name),
				Table: ts,
			}},
		},
	}
}

func dquote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// TableSchemaOf describes a table as the table block of a schema-change
// event (Debezium's io.debezium.relational.history.TableChanges format).
func TableSchemaOf(t Table) change.TableSchema {
	ts := change.TableSchema{}
	var keys []Column
	for _, c := range t.Columns {
		if c.Key {
			keys = append(keys, c)
		}
	}
	sort.SliceStable(keys, func(a, b int) bool {
		sa, sb := keys[a].KeySeq, keys[b].KeySeq
		if sa == 0 || sb == 0 {
			return sa != 0 && sb == 0
		}
		return sa < sb
	})
	for _, c := range keys {
		ts.PrimaryKeyColumnNames = append(ts.PrimaryKeyColumnNames, c.Name)
	}
	for i, c := range t.Columns {
		length, scale := columnLengthScale(c)
		cs := change.ColumnSchema{
			Name:            c.Name,
			JdbcType:        jdbcType(c),
			NativeType:      int32(c.TypeOID),
			TypeName:        typeLabel(c),
			TypeExpression:  typeExpression(c, length, scale),
			Length:          length,
			Position:        int32(i + 1),
			Optional:        c.Nullable,
			AutoIncremented: strings.HasPrefix(c.Default, "nextval("),
			DefaultValue:    c.Default,
			EnumValues:      slices.Clone(c.EnumValues),
		}
		if scale != nil {
			cs.Scale = scale
		}
		ts.Columns = append(ts.Columns, cs)
	}
	return ts
}

// columnLengthScale is pgjdbc's precision and scale of a column type.
func columnLengthScale(c Column) (int32, *int32) {
	oid := c.TypeOID
	if e, _ := elemType(c); e != 0 {
		oid = e
	}
	tm := c.Typmod
	i32 := func(v int) *int32 { x := int32(v); return &x }
	switch oid {
	case oidNumeric:
		if p, s, ok := numericTypmod(tm); ok {
			return int32(p), i32(s)
		}
		return 0, i32(0)
	case oidVarchar, oidBpchar:
		if tm >= 4 {
			return tm - 4, nil
		}
	case oidBit, oidVarbit:
		if tm >= 0 {
			return tm, nil
		}
	case oidTime, oidTimetz, oidTimestamp, oidTimestamptz:
		return 0, i32(timePrecision(tm))
	}
	return 0, nil
}

func typeExpression(c Column, length int32, scale *int32) string {
	name := typeLabel(c)
	switch {
	case c.Typmod < 0:
		return name
	case scale != nil && length > 0:
		return name + "(" + strconv.Itoa(int(length)) + "," + strconv.Itoa(int(*scale)) + ")"
	case length > 0:
		return name + "(" + strconv.Itoa(int(length)) + ")"
	case scale != nil:
		return name + "(" + strconv.Itoa(int(*scale)) + ")"
	}
	return name
}

// jdbcType is the java.sql.Types code pgjdbc reports for a column's type.
func jdbcType(c Column) int32 {
	const (
		typesBit       = -7
		typesSmallint  = 5
		typesInteger   = 4
		typesBigint    = -5
		typesReal      = 7
		typesDouble    = 8
		typesNumeric   = 2
		typesChar      = 1
		typesVarchar   = 12
		typesDate      = 91
		typesTime      = 92
		typesTimestamp = 93
		typesBinary    = -2
		typesOther     = 1111
		typesArray     = 2003
		typesSQLXML    = 2009
		typesRefCursor = 2012
	)
	if e, _ := elemType(c); e != 0 {
		return typesArray
	}
	if c.EnumValues != nil {
		return typesVarchar
	}
	switch c.TypeOID {
	case oidInt2:
		return typesSmallint
	case oidInt4:
		return typesInteger
	case oidInt8, oidOID:
		return typesBigint
	case oidFloat4:
		return typesReal
	case oidFloat8, oidMoney:
		return typesDouble
	case oidNumeric:
		return typesNumeric
	case oidChar, oidBpchar:
		return typesChar
	case oidVarchar, oidText, oidName:
		return typesVarchar
	case oidBytea:
		return typesBinary
	case oidBool, oidBit:
		return typesBit
	case oidDate:
		return typesDate
	case oidTime, oidTimetz:
		return typesTime
	case oidTimestamp, oidTimestamptz:
		return typesTimestamp
	case oidXML:
		return typesSQLXML
	case 1790:
		return typesRefCursor
	}
	return typesOther
}

// ParseMessage parses a pgoutput message (XLogData.WALData, protocol
// version 1) like pglogrepl.Parse, after checking its structure:
// pglogrepl.Parse indexes its input without bounds checks, so truncated
// data panics, and it sizes allocations from counts in the message, so a
// corrupt count can exhaust memory. A message that fails the check, or
// still makes pglogrepl panic, is returned as an error.
func ParseMessage(data []byte) (msg pglogrepl.Message, err error) {
	if err := checkMessage(data); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("malformed pgoutput message %q (%d bytes): %v", data[0], len(data), r)
		}
	}()
	return pglogrepl.Parse(data)
}

// msgReader reads a pgoutput message with bounds checks.
type msgReader struct {
	b   []byte
	err bool
}

func (r *msgReader) take(n int) []byte {
	if r.err || n < 0 || n > len(r.b) {
		r.err = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *msgReader) u8() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *msgReader) u16() int {
	if v := r.take(2); v != nil {
		return int(v[0])<<8 | int(v[1])
	}
	return 0
}

func (r *msgReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	}
	return 0
}

func (r *msgReader) cstring() {
	for i, c := range r.b {
		if c == 0 {
			r.b = r.b[i+1:]
			return
		}
	}
	r.err = true
}

func (r *msgReader) tuple() {
	n := r.u16()
	for i := 0; i < n && !r.err; i++ {
		switch r.u8() {
		case pglogrepl.TupleDataTypeText, pglogrepl.TupleDataTypeBinary:
			l := r.u32()
			if l > uint32(len(r.b)) {
				r.err = true
				return
			}
			r.take(int(l))
		case pglogrepl.TupleDataTypeNull, pglogrepl.TupleDataTypeToast:
		default:
			r.err = true
		}
	}
}

// checkMessage verifies that data is a complete pgoutput message.
func checkMessage(data []byte) error {
	if len(data) == 0 {
		return errors.New("empty pgoutput message")
	}
	r := &msgReader{b: data[1:]}
	switch data[0] {
	case 'B':
		r.take(20)
	case 'C':
		r.take(25)
	case 'O':
		r.take(8)
		r.cstring()
	case 'R':
		r.take(4)
		r.cstring()
		r.cstring()
		r.take(1)
		n := r.u16()
		for i := 0; i < n && !r.err; i++ {
			r.take(1)
			r.cstring()
			r.take(8)
		}
	case 'Y':
		r.take(4)
		r.cstring()
		r.cstring()
	case 'I':
		r.take(4)
		if r.u8() != 'N' {
			r.err = true
		}
		r.tuple()
	case 'U':
		r.take(4)
		kind := r.u8()
		if kind == 'K' || kind == 'O' {
			r.tuple()
			kind = r.u8()
		}
		if kind != 'N' {
			r.err = true
		}
		r.tuple()
	case 'D':
		r.take(4)
		if k := r.u8(); k != 'K' && k != 'O' {
			r.err = true
		}
		r.tuple()
	case 'T':
		n := r.u32()
		r.take(1)
		if uint64(n)*4 > uint64(len(r.b)) {
			r.err = true
		}
		r.take(int(n) * 4)
	case 'M':
		r.take(9)
		r.cstring()
		l := r.u32()
		if l > uint32(len(r.b)) {
			r.err = true
		}
		r.take(int(l))
	default:
		return fmt.Errorf("unsupported pgoutput message type %q", data[0])
	}
	if r.err {
		return fmt.Errorf("truncated or malformed pgoutput message %q (%d bytes)", data[0], len(data))
	}
	return nil
}

// connectorName is source.connector.
const connectorName = "postgresql"
