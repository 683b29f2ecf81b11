package mysql

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/sources"
)

const connectorName = change.ConnectorMySQL

// DecoderOptions configures the event shape. Zero values select Debezium's
// defaults for the MySQL connector.
type DecoderOptions struct {
	TopicPrefix string // topic.prefix; also source.name
	Version     string // source.version
	// DecimalMode is decimal.handling.mode: precise (default), double, string.
	DecimalMode string
	// TimePrecisionMode is time.precision.mode: adaptive_time_microseconds
	// (the MySQL connector's default), adaptive, connect.
	TimePrecisionMode string
	// BinaryMode is binary.handling.mode: bytes (default), base64,
	// base64-url-safe, hex.
	BinaryMode string
	// BigIntUnsignedMode is bigint.unsigned.handling.mode: long (default:
	// BIGINT UNSIGNED as int64, values above 2^63-1 wrap) or precise
	// (org.apache.kafka.connect.data.Decimal with scale 0, exact).
	BigIntUnsignedMode string
	// TinyInt1AsBoolean maps TINYINT(1) columns to booleans (0 false,
	// anything else true), as Debezium's TinyIntOneToBooleanConverter does;
	// otherwise they are INT16 like every TINYINT.
	TinyInt1AsBoolean bool
	// Tombstones is tombstones.on.delete.
	Tombstones bool
	// TransactionMetadata is provide.transaction.metadata: row events get
	// the transaction block (id: the GTID, or "file:pos" of the
	// transaction's start without GTIDs).
	TransactionMetadata bool
	// MessageKeyColumns is message.key.columns: "db.table" (a regular
	// expression matched against the whole name, case-insensitively) to
	// the key columns (regular expressions too), in key order. A table no
	// entry's columns match keeps its primary key.
	MessageKeyColumns map[string][]string
	// Now returns the processing time (default time.Now).
	Now func() time.Time
}

// Validate reports invalid modes.
func (o DecoderOptions) Validate() error {
	_, err := newConfig(&o)
	return err
}

// Decoder turns binlog rows and snapshot rows into change events. It is
// not safe for concurrent use.
type Decoder struct {
	opts   DecoderOptions
	cfg    *config
	cfgErr error
	tables map[string]*tableState // "db.table"

	txID       string
	txSeq      uint64
	totalOrder int64
}

type tableState struct {
	def       Table
	topic     string
	rowSchema *change.Schema
	keySchema *change.Schema
	cols      []codec
	keyCols   []int // column indexes of the key, in key order

	txSeq   uint64 // transaction of txOrder
	txOrder int64  // data_collection_order within transaction txSeq

	// chunks is where snapshot rows are allocated, many at a time
	// (rowWithKeyFunc).
	chunks change.StructChunks
}

// NewDecoder returns a decoder; invalid options are reported by SetTable.
func NewDecoder(o DecoderOptions) *Decoder {
	d := &Decoder{opts: o, tables: map[string]*tableState{}}
	d.cfg, d.cfgErr = newConfig(&d.opts)
	if d.opts.Now == nil {
		d.opts.Now = time.Now
	}
	return d
}

// SetTable registers (or replaces) a table definition.
func (d *Decoder) SetTable(t Table) error {
	if d.cfgErr != nil {
		return d.cfgErr
	}
	st := &tableState{def: t, topic: change.TopicFor(d.opts.TopicPrefix, t.DB, t.Name)}
	st.def.Columns = append([]Column(nil), t.Columns...)
	fields := make([]change.Field, len(t.Columns))
	seen := make(map[string]bool, len(t.Columns))
	for i, c := range t.Columns {
		if c.Name == "" || seen[strings.ToLower(c.Name)] {
			return fmt.Errorf("%s: column %d: empty or duplicate name %q", t.ID(), i+1, c.Name)
		}
		seen[strings.ToLower(c.Name)] = true
		cd, err := compileColumn(c, d.cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", t.ID(), err)
		}
		if v, ok := defaultValue(c, cd); ok {
			cd.schema.Default, cd.schema.HasDefault = v, true
		}
		st.cols = append(st.cols, cd)
		fields[i] = change.Field{Name: c.Name, Schema: cd.schema}
	}
	st.rowSchema = &change.Schema{Type: change.TypeStruct, Name: change.ValueSchemaName(st.topic), Optional: true, Fields: fields}
	if st.keyCols = d.overrideKey(t); st.keyCols == nil {
		for i, c := range t.Columns {
			if c.Key {
				st.keyCols = append(st.keyCols, i)
			}
		}
		slices.SortStableFunc(st.keyCols, func(a, b int) int { return t.Columns[a].KeySeq - t.Columns[b].KeySeq })
	}
	if len(st.keyCols) > 0 {
		kf := make([]change.Field, len(st.keyCols))
		for i, ci := range st.keyCols {
			kf[i] = fields[ci]
		}
		st.keySchema = &change.Schema{Type: change.TypeStruct, Name: change.KeySchemaName(st.topic), Fields: kf}
	}
	d.tables[t.ID()] = st
	return nil
}

// overrideKey returns the message.key.columns of t (column indexes in key
// order), nil when no entry applies.
func (d *Decoder) overrideKey(t Table) []int {
	id := t.ID()
	var out []int
	keys := make([]string, 0, len(d.opts.MessageKeyColumns))
	for k := range d.opts.MessageKeyColumns {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !anchored(k).MatchString(id) {
			continue
		}
		for _, cp := range d.opts.MessageKeyColumns[k] {
			re := anchored(strings.TrimSpace(cp))
			for i, c := range t.Columns {
				if re.MatchString(c.Name) && !slices.Contains(out, i) {
					out = append(out, i)
				}
			}
		}
	}
	return out
}

func anchored(p string) *regexp.Regexp {
	re, err := regexp.Compile("(?i)^(?:" + p + ")$")
	if err != nil {
		re = regexp.MustCompile(`(?i)^` + regexp.QuoteMeta(p) + `$`)
	}
	return re
}

// DropTable forgets a table.
func (d *Decoder) DropTable(db, name string) { delete(d.tables, db+"."+name) }

// Table returns a registered table's definition.
func (d *Decoder) Table(db, name string) (Table, bool) {
	st, ok := d.tables[db+"."+name]
	if !ok {
		return Table{}, false
	}
	return st.def, true
}

// Tables returns every registered table.
func (d *Decoder) Tables() []Table {
	out := make([]Table, 0, len(d.tables))
	for _, st := range d.tables {
		out = append(out, st.def)
	}
	return out
}

func (d *Decoder) table(db, name string) (*tableState, error) {
	if d.cfgErr != nil {
		return nil, d.cfgErr
	}
	st, ok := d.tables[db+"."+name]
	if !ok {
		return nil, fmt.Errorf("table %s.%s is not known", db, name)
	}
	return st, nil
}

func (d *Decoder) fillSource(st *tableState, src *change.Source) {
	src.Version = d.opts.Version
	src.Connector = connectorName
	src.Name = d.opts.TopicPrefix
	src.DB = st.def.DB
	src.Table = st.def.Name
}

// BeginTx starts a transaction for the transaction blocks; id is its GTID
// or "file:pos".
func (d *Decoder) BeginTx(id string) {
	d.txID = id
	d.txSeq++
	d.totalOrder = 0
}

func (d *Decoder) txBlock(st *tableState) *change.Transaction {
	if !d.opts.TransactionMetadata || d.txSeq == 0 {
		return nil
	}
	d.totalOrder++
	if st.txSeq != d.txSeq {
		st.txSeq, st.txOrder = d.txSeq, 0
	}
	st.txOrder++
	return &change.Transaction{ID: d.txID, TotalOrder: d.totalOrder, DataCollectionOrder: st.txOrder}
}

// Kind of a binlog row change.
type Kind int

// Row change kinds.
const (
	Insert Kind = iota
	Update
	Delete
)

// AppendRow decodes one binlog row change of db.table and appends its
// events: a create, an update (or delete + tombstone + create when the key
// changed), or a delete (+ tombstone). before is nil for inserts, after
// nil for deletes. src carries the position fields.
func (d *Decoder) AppendRow(dst []change.Event, db, table string, kind Kind, before, after []any, src change.Source) ([]change.Event, error) {
	st, err := d.table(db, table)
	if err != nil {
		return dst, err
	}
	d.fillSource(st, &src)
	ts := d.opts.Now().UnixMicro()
	var b, a, kb, ka *change.Struct
	if before != nil {
		if b, kb, err = st.rowWithKey(before, true); err != nil {
			return dst, err
		}
	}
	if after != nil {
		if a, ka, err = st.rowWithKey(after, true); err != nil {
			return dst, err
		}
	}
	switch kind {
	case Insert:
		return append(dst, change.Event{Topic: st.topic, Op: change.OpCreate, Key: ka, RowSchema: st.rowSchema, After: a, Source: src, TsUs: ts, Transaction: d.txBlock(st)}), nil
	case Delete:
		k := kb
		dst = append(dst, change.Event{Topic: st.topic, Op: change.OpDelete, Key: k, RowSchema: st.rowSchema, Before: b, Source: src, TsUs: ts, Transaction: d.txBlock(st)})
		if d.opts.Tombstones {
			dst = append(dst, change.Event{Topic: st.topic, Key: k, Source: src, TsUs: ts, Tombstone: true})
		}
		return dst, nil
	case Update:
		ok, nk := kb, ka
		if ok == nil || ok.Equal(nk) {
			return append(dst, change.Event{Topic: st.topic, Op: change.OpUpdate, Key: nk, RowSchema: st.rowSchema, Before: b, After: a, Source: src, TsUs: ts, Transaction: d.txBlock(st)}), nil
		}
		dst = append(dst, change.Event{Topic: st.topic, Op: change.OpDelete, Key: ok, RowSchema: st.rowSchema, Before: b, Source: src, TsUs: ts, Transaction: d.txBlock(st)})
		if d.opts.Tombstones {
			dst = append(dst, change.Event{Topic: st.topic, Key: ok, Source: src, TsUs: ts, Tombstone: true})
		}
		return append(dst, change.Event{Topic: st.topic, Op: change.OpCreate, Key: nk, RowSchema: st.rowSchema, After: a, Source: src, TsUs: ts, Transaction: d.txBlock(st)}), nil
	}
	return dst, fmt.Errorf("unknown row change kind %d", kind)
}

// ReadRow decodes a snapshot row (text protocol values) into a read event.
func (d *Decoder) ReadRow(db, table string, vals []any, src change.Source) (change.Event, error) {
	st, err := d.table(db, table)
	if err != nil {
		return change.Event{}, err
	}
	d.fillSource(st, &src)
	a, k, err := st.rowWithKey(vals, false)
	if err != nil {
		return change.Event{}, err
	}
	return change.Event{Topic: st.topic, Op: change.OpRead, Key: k, RowSchema: st.rowSchema, After: a, Source: src, TsUs: sources.SnapshotTs(src, d.opts.Now)}, nil
}

// ReadTextRow is ReadRow for a row as go-mysql's streaming SELECT returns
// it (text protocol), converted without boxing each value first.
func (d *Decoder) ReadTextRow(db, table string, row []gomysql.FieldValue, src change.Source) (change.Event, error) {
	st, err := d.table(db, table)
	if err != nil {
		return change.Event{}, err
	}
	d.fillSource(st, &src)
	if len(row) != len(st.cols) {
		return change.Event{}, fmt.Errorf("%s: row has %d values, the table has %d columns", st.def.ID(), len(row), len(st.cols))
	}
	a, k, err := st.rowWithKeyFunc(len(row), func(i int) (any, error) { return st.cols[i].textValue(&row[i]) })
	if err != nil {
		return change.Event{}, err
	}
	return change.Event{Topic: st.topic, Op: change.OpRead, Key: k, RowSchema: st.rowSchema, After: a, Source: src, TsUs: sources.SnapshotTs(src, d.opts.Now)}, nil
}

// rowWithKey converts a row image (go-mysql's values: from the binlog, or
// text protocol values of a snapshot) and builds its key, allocated many
// rows at a time (events are encoded and dropped in order).
func (st *tableState) rowWithKey(vals []any, binlog bool) (row, key *change.Struct, err error) {
	if len(vals) != len(st.cols) {
		hint := ""
		if binlog {
			hint = " (schema out of step with the binlog?)"
		}
		return nil, nil, fmt.Errorf("%s: row has %d values, the table has %d columns%s", st.def.ID(), len(vals), len(st.cols), hint)
	}
	return st.rowWithKeyFunc(len(vals), func(i int) (any, error) {
		if vals[i] == nil {
			return nil, nil
		}
		return st.cols[i].convert(vals[i], binlog)
	})
}

// rowWithKeyFunc builds a row of n columns, value(i) converting column i,
// and its key, allocated many rows at a time (change.StructChunks).
func (st *tableState) rowWithKeyFunc(n int, value func(i int) (any, error)) (row, key *change.Struct, err error) {
	row, key = st.chunks.Next(st.rowSchema, n, st.keySchema, len(st.keyCols))
	for i := range n {
		cv, err := value(i)
		if err != nil {
			return nil, nil, fmt.Errorf("%s column %s: %w", st.def.ID(), st.def.Columns[i].Name, err)
		}
		row.Values[i] = cv
	}
	if key == nil {
		return row, nil, nil
	}
	for i, ci := range st.keyCols {
		key.Values[i] = row.Values[ci]
	}
	return row, key, nil
}

// SchemaChange builds a schema-change event for the topic <prefix>: ddl ran
// in database db and changed tables (Type CREATE, ALTER or DROP).
func (d *Decoder) SchemaChange(db, ddl string, changes []TableChangeRef, src change.Source) change.Event {
	src.Version = d.opts.Version
	src.Connector = connectorName
	src.Name = d.opts.TopicPrefix
	src.DB = db
	sc := &change.SchemaChange{DatabaseName: db, DDL: ddl}
	for _, c := range changes {
		tc := change.TableChange{Type: c.Type, ID: `"` + c.Table.DB + `"."` + c.Table.Name + `"`, Table: TableSchemaOf(c.Table)}
		sc.TableChanges = append(sc.TableChanges, tc)
	}
	return change.Event{Topic: change.SchemaChangeTopic(d.opts.TopicPrefix), Source: src, TsUs: d.opts.Now().UnixMicro(), SchemaChange: sc}
}

// TableChangeRef is one table a DDL statement changed.
type TableChangeRef struct {
	Type  string // CREATE | ALTER | DROP
	Table Table
}

// TableSchemaOf describes a table as Debezium's tableChanges do.
func TableSchemaOf(t Table) change.TableSchema {
	ts := change.TableSchema{DefaultCharsetName: t.Charset}
	var keys []Column
	for i, c := range t.Columns {
		if c.Key {
			keys = append(keys, c)
		}
		typeName := strings.ToUpper(c.DataType)
		if c.Unsigned {
			typeName += " UNSIGNED"
		}
		cs := change.ColumnSchema{
			Name:            c.Name,
			JdbcType:        jdbcType(c),
			TypeName:        typeName,
			TypeExpression:  typeName,
			CharsetName:     c.Charset,
			Position:        int32(i + 1),
			Optional:        c.Nullable,
			AutoIncremented: c.AutoIncrement,
			Comment:         c.Comment,
			EnumValues:      c.EnumValues,
		}
		switch c.DataType {
		case "decimal", "numeric":
			cs.Length = int32(c.Length)
			s := int32(c.Scale)
			cs.Scale = &s
		case "char", "varchar", "binary", "varbinary", "bit":
			cs.Length = int32(c.Length)
		case "datetime", "timestamp", "time":
			if c.FSP > 0 {
				cs.Length = int32(c.FSP)
			}
		}
		if c.Default != nil && !strings.EqualFold(*c.Default, "NULL") {
			d := *c.Default
			if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
				d = unquoteSQL(d[1 : len(d)-1])
			}
			cs.DefaultValue = d
		}
		ts.Columns = append(ts.Columns, cs)
	}
	for a := 1; a < len(keys); a++ {
		for b := a; b > 0 && keys[b].KeySeq < keys[b-1].KeySeq; b-- {
			keys[b], keys[b-1] = keys[b-1], keys[b]
		}
	}
	for _, k := range keys {
		ts.PrimaryKeyColumnNames = append(ts.PrimaryKeyColumnNames, k.Name)
	}
	return ts
}

// jdbcType is the java.sql.Types code Debezium records for a column.
func jdbcType(c Column) int32 {
	switch c.DataType {
	case "bit":
		return -7
	case "tinyint":
		return -6
	case "smallint":
		return 5
	case "mediumint", "int", "integer":
		return 4
	case "bigint":
		return -5
	case "float":
		return 6
	case "double", "real":
		return 8
	case "decimal", "numeric":
		return 3
	case "char", "enum", "set":
		return 1
	case "varchar", "tinytext", "text", "mediumtext", "longtext", "json":
		return 12
	case "binary":
		return -2
	case "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry", "point", "linestring", "polygon":
		return -3
	case "date":
		return 91
	case "time":
		return 92
	case "datetime", "timestamp":
		return 93
	case "year":
		return 4
	}
	return 1111
}
