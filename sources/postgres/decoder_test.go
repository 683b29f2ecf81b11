package postgres

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/sluice-cdc/sluice/change"
)

// ---- pgoutput wire encoding (protocol version 1) --------------------------------

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

type wire []byte

func (w wire) u8(v byte) wire    { return append(w, v) }
func (w wire) u16(v uint16) wire { return binary.BigEndian.AppendUint16(w, v) }
func (w wire) u32(v uint32) wire { return binary.BigEndian.AppendUint32(w, v) }
func (w wire) u64(v uint64) wire { return binary.BigEndian.AppendUint64(w, v) }
func (w wire) str(s string) wire { return append(append(w, s...), 0) }
func (w wire) ts(t time.Time) wire {
	return w.u64(uint64(t.Sub(pgEpoch).Microseconds()))
}

// tcol is one tuple column: 'n', 'u' or text.
type tcol struct {
	kind byte
	text string
}

func txt(s string) tcol { return tcol{'t', s} }

var (
	null  = tcol{kind: 'n'}
	toast = tcol{kind: 'u'}
)

func (w wire) tuple(cols ...tcol) wire {
	w = w.u16(uint16(len(cols)))
	for _, c := range cols {
		w = w.u8(c.kind)
		if c.kind == 't' {
			w = w.u32(uint32(len(c.text)))
			w = append(w, c.text...)
		}
	}
	return w
}

func encBegin(final uint64, commit time.Time, xid uint32) []byte {
	return wire{'B'}.u64(final).ts(commit).u32(xid)
}

func encCommit(lsn, end uint64, commit time.Time) []byte {
	return wire{'C'}.u8(0).u64(lsn).u64(end).ts(commit)
}

func encRelation(t Table) []byte {
	w := wire{'R'}.u32(t.RelationID).str(t.Schema).str(t.Name).u8(t.ReplicaIdentity).u16(uint16(len(t.Columns)))
	for _, c := range t.Columns {
		var flags byte
		if c.Key {
			flags = 1
		}
		w = w.u8(flags).str(c.Name).u32(c.TypeOID).u32(uint32(c.Typmod))
	}
	return w
}

func encInsert(rel uint32, cols ...tcol) []byte {
	return wire{'I'}.u32(rel).u8('N').tuple(cols...)
}

func encUpdate(rel uint32, oldKind byte, old []tcol, cols ...tcol) []byte {
	w := wire{'U'}.u32(rel)
	if oldKind != 0 {
		w = w.u8(oldKind).tuple(old...)
	}
	return w.u8('N').tuple(cols...)
}

func encDelete(rel uint32, kind byte, old ...tcol) []byte {
	return wire{'D'}.u32(rel).u8(kind).tuple(old...)
}

func encTruncate(rels ...uint32) []byte {
	w := wire{'T'}.u32(uint32(len(rels))).u8(0)
	for _, r := range rels {
		w = w.u32(r)
	}
	return w
}

// ---- fixtures -------------------------------------------------------------------

var (
	commitTime = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	procTime   = time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)
)

const relCustomers = 16384

// customers mirrors the Debezium documentation's example table plus a
// few toastable and unmappable columns:
//
//	id SERIAL PRIMARY KEY, first_name VARCHAR(255) NOT NULL,
//	last_name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL,
//	bio TEXT, tags TEXT[], score NUMERIC(5,2), doc BYTEA, q TSQUERY
func customers() Table {
	return Table{
		RelationID: relCustomers, Schema: "public", Name: "customers", ReplicaIdentity: 'd',
		Columns: []Column{
			{Name: "id", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Key: true, KeySeq: 1, Default: "nextval('customers_id_seq'::regclass)"},
			{Name: "first_name", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(255)},
			{Name: "last_name", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(255)},
			{Name: "email", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(255)},
			{Name: "bio", TypeOID: oidText, TypeName: "text", Typmod: -1, Nullable: true},
			{Name: "tags", TypeOID: 1009, TypeName: "_text", Typmod: -1, Nullable: true, ElemOID: oidText, ElemTypeName: "text"},
			{Name: "score", TypeOID: oidNumeric, TypeName: "numeric", Typmod: numericMod(5, 2), Nullable: true},
			{Name: "doc", TypeOID: oidBytea, TypeName: "bytea", Typmod: -1, Nullable: true},
			{Name: "q", TypeOID: 3615, TypeName: "tsquery", Typmod: -1, Nullable: true},
		},
	}
}

func row(id string) []tcol {
	return []tcol{txt(id), txt("Anne"), txt("Kretchmar"), txt("annek@noanswer.org"), txt("bio " + id), txt("{a,b}"), txt("1.50"), txt(`\x0102`), txt("'x'")}
}

func newTestDecoder(t testing.TB, mod func(*DecoderOptions)) *Decoder {
	t.Helper()
	o := DecoderOptions{
		TopicPrefix: "dbserver1", Database: "postgres", Version: "0.1.0", Tombstones: true,
		Now: func() time.Time { return procTime },
	}
	if mod != nil {
		mod(&o)
	}
	d := NewDecoder(o)
	if ev, err := d.SetTable(customers()); err != nil || ev != nil {
		t.Fatalf("SetTable: %v %v", ev, err)
	}
	return d
}

func parse(t testing.TB, b []byte) pglogrepl.Message {
	t.Helper()
	m, err := ParseMessage(b)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

// apply feeds one encoded message to d the way the stream loop does.
func apply(t testing.TB, d *Decoder, b []byte, lsn pglogrepl.LSN) ([]change.Event, error) {
	t.Helper()
	switch m := parse(t, b).(type) {
	case *pglogrepl.BeginMessage:
		d.Begin(m)
	case *pglogrepl.CommitMessage:
		d.Commit(m)
	case *pglogrepl.RelationMessage:
		cur, _ := d.Table(m.RelationID)
		ev, err := d.SetTable(TableFromRelation(m, &cur))
		if ev != nil {
			return []change.Event{*ev}, err
		}
		return nil, err
	case *pglogrepl.InsertMessage:
		return d.Insert(m, lsn)
	case *pglogrepl.UpdateMessage:
		return d.Update(m, lsn)
	case *pglogrepl.DeleteMessage:
		return d.Delete(m, lsn)
	case *pglogrepl.TruncateMessage:
		return d.Truncate(m, lsn)
	}
	return nil, nil
}

func mustApply(t testing.TB, d *Decoder, b []byte, lsn pglogrepl.LSN) []change.Event {
	t.Helper()
	evs, err := apply(t, d, b, lsn)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func field(t testing.TB, s *change.Struct, name string) any {
	t.Helper()
	v, ok := s.Get(name)
	if !ok {
		t.Fatalf("no field %q in %s", name, show(s))
	}
	return v
}

func ops(evs []change.Event) string {
	var b strings.Builder
	for _, e := range evs {
		switch {
		case e.Tombstone:
			b.WriteString("tombstone ")
		case e.SchemaChange != nil:
			b.WriteString("schema ")
		default:
			b.WriteString(string(e.Op) + " ")
		}
	}
	return strings.TrimSpace(b.String())
}

// ---- event shapes ---------------------------------------------------------------

func TestInsertEvent(t *testing.T) {
	d := newTestDecoder(t, nil)
	d.SetLastCommitLSN(0x100)
	mustApply(t, d, encBegin(0x200, commitTime, 556), 0x180)
	evs := mustApply(t, d, encInsert(relCustomers, row("1")...), 0x1A0)
	if ops(evs) != "c" {
		t.Fatalf("ops %q", ops(evs))
	}
	e := evs[0]
	if e.Topic != "dbserver1.public.customers" {
		t.Errorf("topic %q", e.Topic)
	}
	if e.Before != nil || e.After == nil || e.Transaction != nil || e.Tombstone {
		t.Errorf("shape: %+v", e)
	}
	if got := desc(e.Key.Schema); got != `struct dbserver1.public.customers.Key/0 [id:int32 default=int32(0)]` {
		t.Errorf("key schema %s", got)
	}
	if got := show(e.Key); got != "{id:int32(1)}" {
		t.Errorf("key %s", got)
	}
	if e.RowSchema.Name != "dbserver1.public.customers.Value" || !e.RowSchema.Optional {
		t.Errorf("row schema %s", desc(e.RowSchema))
	}
	// q (tsquery) has no mapping and is left out.
	var names []string
	for _, f := range e.RowSchema.Fields {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "id,first_name,last_name,email,bio,tags,score,doc" {
		t.Errorf("fields %s", got)
	}
	if got := show(e.After); got != `{id:int32(1) first_name:"Anne" last_name:"Kretchmar" email:"annek@noanswer.org" bio:"bio 1" tags:["a" "b"] score:bytes(0096) doc:bytes(0102)}` {
		t.Errorf("after %s", got)
	}
	want := change.Source{
		Version: "0.1.0", Connector: "postgresql", Name: "dbserver1", TsUs: commitTime.UnixMicro(),
		Snapshot: "false", DB: "postgres", Sequence: `["256","416"]`, Schema: "public", Table: "customers",
		TxID: 556, LSN: 0x1A0,
	}
	if e.Source != want {
		t.Errorf("source\n got %+v\nwant %+v", e.Source, want)
	}
	if e.TsUs != procTime.UnixMicro() {
		t.Errorf("ts %d", e.TsUs)
	}
}

func TestSequenceAfterCommit(t *testing.T) {
	d := newTestDecoder(t, nil)
	mustApply(t, d, encBegin(0x200, commitTime, 1), 0)
	evs := mustApply(t, d, encInsert(relCustomers, row("1")...), 0x150)
	if evs[0].Source.Sequence != `[null,"336"]` {
		t.Errorf("first sequence %s", evs[0].Source.Sequence)
	}
	mustApply(t, d, encCommit(0x200, 0x230, commitTime), 0x230)
	mustApply(t, d, encBegin(0x300, commitTime, 2), 0)
	evs = mustApply(t, d, encInsert(relCustomers, row("2")...), 0x2A0)
	if evs[0].Source.Sequence != `["560","672"]` || evs[0].Source.TxID != 2 {
		t.Errorf("second sequence %s txid %d", evs[0].Source.Sequence, evs[0].Source.TxID)
	}
}

func TestUpdateDefaultIdentity(t *testing.T) {
	d := newTestDecoder(t, nil)
	mustApply(t, d, encBegin(0x200, commitTime, 7), 0)
	// No old tuple: the key did not change and the identity is DEFAULT.
	evs := mustApply(t, d, encUpdate(relCustomers, 0, nil, row("1")...), 0x210)
	if ops(evs) != "u" {
		t.Fatalf("ops %q", ops(evs))
	}
	if evs[0].Before != nil {
		t.Errorf("before = %s, want null (Debezium sends no before image without an old tuple)", show(evs[0].Before))
	}
	if show(evs[0].Key) != "{id:int32(1)}" {
		t.Errorf("key %s", show(evs[0].Key))
	}
}

func TestUpdateFullIdentity(t *testing.T) {
	d := newTestDecoder(t, nil)
	old := row("1")
	old[1] = txt("Anne Marie")
	evs := mustApply(t, d, encUpdate(relCustomers, 'O', old, row("1")...), 0x210)
	if ops(evs) != "u" {
		t.Fatalf("ops %q", ops(evs))
	}
	if got := field(t, evs[0].Before, "first_name"); got != "Anne Marie" {
		t.Errorf("before.first_name %v", got)
	}
	if got := field(t, evs[0].After, "first_name"); got != "Anne" {
		t.Errorf("after.first_name %v", got)
	}
}

func TestUnchangedToast(t *testing.T) {
	var warnings []string
	d := newTestDecoder(t, func(o *DecoderOptions) {
		o.OnConversionWarning = func(table, column string, err error) { warnings = append(warnings, table+"."+column) }
	})
	newRow := row("1")
	newRow[4], newRow[5], newRow[6], newRow[7] = toast, toast, toast, toast
	evs := mustApply(t, d, encUpdate(relCustomers, 0, nil, newRow...), 0x210)
	a := evs[0].After
	if got := field(t, a, "bio"); got != "__debezium_unavailable_value" {
		t.Errorf("bio %v", show(got))
	}
	if got := show(field(t, a, "tags")); got != `["__debezium_unavailable_value"]` {
		t.Errorf("tags %s", got)
	}
	if got := show(field(t, a, "doc")); got != "bytes("+hexOf("__debezium_unavailable_value")+")" {
		t.Errorf("doc %s", got)
	}
	// A precise decimal cannot hold the placeholder: null, with a warning.
	if got := field(t, a, "score"); got != nil {
		t.Errorf("score %v", show(got))
	}
	if strings.Join(warnings, ",") != "public.customers.score" {
		t.Errorf("warnings %v", warnings)
	}

	// With REPLICA IDENTITY FULL the old tuple has the value: Debezium
	// reuses it.
	evs = mustApply(t, d, encUpdate(relCustomers, 'O', row("1"), newRow...), 0x220)
	if got := field(t, evs[0].After, "bio"); got != "bio 1" {
		t.Errorf("bio from old tuple: %v", show(got))
	}
	if got := show(field(t, evs[0].After, "tags")); got != `["a" "b"]` {
		t.Errorf("tags from old tuple: %s", got)
	}

	// Custom placeholder, hex-encoded.
	d2 := newTestDecoder(t, func(o *DecoderOptions) { o.UnavailablePlaceholder = "hex:00ff"; o.BinaryMode = "hex" })
	evs = mustApply(t, d2, encUpdate(relCustomers, 0, nil, newRow...), 0x210)
	if got := field(t, evs[0].After, "bio"); got != "\x00\xff" {
		t.Errorf("bio %q", got)
	}
	if got := field(t, evs[0].After, "doc"); got != "\x00\xff" {
		t.Errorf("doc (hex mode) %q", got)
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

func TestToastArrayPlaceholders(t *testing.T) {
	tbl := Table{RelationID: 1, Schema: "s", Name: "t", Columns: []Column{
		{Name: "id", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Key: true},
		{Name: "ia", TypeOID: 1007, TypeName: "_int4", Typmod: -1, Nullable: true, ElemOID: oidInt4, ElemTypeName: "int4"},
		{Name: "ba", TypeOID: 1016, TypeName: "_int8", Typmod: -1, Nullable: true, ElemOID: oidInt8, ElemTypeName: "int8"},
		{Name: "ua", TypeOID: 2951, TypeName: "_uuid", Typmod: -1, Nullable: true, ElemOID: oidUUID, ElemTypeName: "uuid"},
		{Name: "ja", TypeOID: 3807, TypeName: "_jsonb", Typmod: -1, Nullable: true, ElemOID: oidJSONB, ElemTypeName: "jsonb"},
		{Name: "hs", TypeOID: 16400, TypeName: "hstore", Typmod: -1, Nullable: true},
		{Name: "na", TypeOID: 1231, TypeName: "_numeric", Typmod: -1, ElemOID: oidNumeric, ElemTypeName: "numeric"},
	}}
	d := NewDecoder(DecoderOptions{TopicPrefix: "p"})
	if _, err := d.SetTable(tbl); err != nil {
		t.Fatal(err)
	}
	_, err := apply(t, d, encUpdate(1, 0, nil, txt("1"), toast, toast, toast, toast, toast, toast), 1)
	if err == nil || !strings.Contains(err.Error(), "s.t.na") {
		t.Fatalf("NOT NULL numeric[] placeholder: err %v", err)
	}
	tbl.Columns[6].Nullable = true
	d.SetTable(tbl)
	evs := mustApply(t, d, encUpdate(1, 0, nil, txt("1"), toast, toast, toast, toast, toast, toast), 1)
	a := evs[0].After
	// DecoderDifferences.toastedValueIntPlaceholder / ...BigintPlaceholder / ...UuidPlaceholder.
	ints := "95 95 100 101 98 101 122 105 117 109 95 117 110 97 118 97 105 108 97 98 108 101 95 118 97 108 117 101"
	var i32, i64 []string
	for _, n := range strings.Fields(ints) {
		i32 = append(i32, "int32("+n+")")
		i64 = append(i64, "int64("+n+")")
	}
	if got := show(field(t, a, "ia")); got != "["+strings.Join(i32, " ")+"]" {
		t.Errorf("int[] %s", got)
	}
	if got := show(field(t, a, "ba")); got != "["+strings.Join(i64, " ")+"]" {
		t.Errorf("bigint[] %s", got)
	}
	if got := show(field(t, a, "ua")); got != `["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]` {
		t.Errorf("uuid[] %s", got)
	}
	if got := show(field(t, a, "ja")); got != `["__debezium_unavailable_value"]` {
		t.Errorf("jsonb[] %s", got)
	}
	if got := field(t, a, "hs"); got != `{"__debezium_unavailable_value":"__debezium_unavailable_value"}` {
		t.Errorf("hstore %v", got)
	}
	if got := field(t, a, "na"); got != nil {
		t.Errorf("numeric[] %v", show(got))
	}
}

func TestPrimaryKeyChange(t *testing.T) {
	for _, tombstones := range []bool{true, false} {
		d := newTestDecoder(t, func(o *DecoderOptions) { o.Tombstones = tombstones; o.TransactionMetadata = true })
		mustApply(t, d, encBegin(0x200, commitTime, 9), 0)
		// REPLICA IDENTITY DEFAULT: the old key tuple holds the key, the
		// other columns are null.
		old := []tcol{txt("1"), null, null, null, null, null, null, null, null}
		evs := mustApply(t, d, encUpdate(relCustomers, 'K', old, row("2")...), 0x240)
		want := "d tombstone c"
		if !tombstones {
			want = "d c"
		}
		if ops(evs) != want {
			t.Fatalf("tombstones=%v: ops %q, want %q", tombstones, ops(evs), want)
		}
		del, cr := evs[0], evs[len(evs)-1]
		if show(del.Key) != "{id:int32(1)}" || show(cr.Key) != "{id:int32(2)}" {
			t.Errorf("keys %s %s", show(del.Key), show(cr.Key))
		}
		// NOT NULL columns missing from the key tuple get Debezium's
		// fallback (empty string), nullable ones null.
		if got := show(del.Before); got != `{id:int32(1) first_name:"" last_name:"" email:"" bio:nil tags:nil score:nil doc:nil}` {
			t.Errorf("delete before %s", got)
		}
		if del.After != nil || cr.Before != nil || cr.After == nil {
			t.Errorf("before/after shape")
		}
		if del.Transaction == nil || del.Transaction.TotalOrder != 1 || cr.Transaction.TotalOrder != 2 ||
			cr.Transaction.DataCollectionOrder != 2 || del.Transaction.ID != "9:576" {
			t.Errorf("transaction %+v %+v", del.Transaction, cr.Transaction)
		}
		if tombstones {
			ts := evs[1]
			if ts.Key != del.Key || ts.Topic != del.Topic || ts.Op != "" || ts.After != nil || ts.Before != nil || ts.Transaction != nil {
				t.Errorf("tombstone %+v", ts)
			}
		}
	}
}

func TestPrimaryKeyUnchangedFullIdentity(t *testing.T) {
	d := newTestDecoder(t, nil)
	evs := mustApply(t, d, encUpdate(relCustomers, 'O', row("3"), row("3")...), 0x240)
	if ops(evs) != "u" {
		t.Errorf("ops %q", ops(evs))
	}
}

func TestDeleteEvents(t *testing.T) {
	d := newTestDecoder(t, nil)
	old := []tcol{txt("1"), null, null, null, null, null, null, null, null}
	evs := mustApply(t, d, encDelete(relCustomers, 'K', old...), 0x250)
	if ops(evs) != "d tombstone" {
		t.Fatalf("ops %q", ops(evs))
	}
	if show(evs[0].Key) != "{id:int32(1)}" || show(evs[1].Key) != "{id:int32(1)}" || !evs[1].Tombstone {
		t.Errorf("keys")
	}
	if got := field(t, evs[0].Before, "email"); got != "" {
		t.Errorf("before.email %q", got)
	}
	// FULL: the whole row.
	evs = mustApply(t, d, encDelete(relCustomers, 'O', row("1")...), 0x260)
	if got := field(t, evs[0].Before, "email"); got != "annek@noanswer.org" {
		t.Errorf("before.email %q", got)
	}

	d = newTestDecoder(t, func(o *DecoderOptions) { o.Tombstones = false })
	evs = mustApply(t, d, encDelete(relCustomers, 'K', old...), 0x250)
	if ops(evs) != "d" {
		t.Errorf("without tombstones: %q", ops(evs))
	}
}

func TestKeylessTable(t *testing.T) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "p", Tombstones: true})
	tbl := Table{RelationID: 2, Schema: "public", Name: "log", ReplicaIdentity: 'f', Columns: []Column{
		{Name: "msg", TypeOID: oidText, TypeName: "text", Typmod: -1, Nullable: true},
	}}
	if _, err := d.SetTable(tbl); err != nil {
		t.Fatal(err)
	}
	evs := mustApply(t, d, encInsert(2, txt("hello")), 1)
	if evs[0].Key != nil {
		t.Errorf("key %s, want null", show(evs[0].Key))
	}
	evs = mustApply(t, d, encUpdate(2, 'O', []tcol{txt("hello")}, txt("bye")), 2)
	if ops(evs) != "u" || evs[0].Key != nil || field(t, evs[0].Before, "msg") != "hello" {
		t.Errorf("update %q %s", ops(evs), show(evs[0].Before))
	}
	evs = mustApply(t, d, encDelete(2, 'O', txt("bye")), 3)
	if ops(evs) != "d tombstone" || evs[0].Key != nil {
		t.Errorf("delete %q", ops(evs))
	}
}

func TestTruncate(t *testing.T) {
	d := newTestDecoder(t, func(o *DecoderOptions) { o.TransactionMetadata = true })
	other := Table{RelationID: 3, Schema: "inv", Name: "orders", Columns: []Column{{Name: "id", TypeOID: oidInt8, TypeName: "int8", Typmod: -1, Key: true}}}
	if _, err := d.SetTable(other); err != nil {
		t.Fatal(err)
	}
	mustApply(t, d, encBegin(0x300, commitTime, 12), 0)
	evs := mustApply(t, d, encTruncate(relCustomers, 3), 0x310)
	if ops(evs) != "t t" {
		t.Fatalf("ops %q", ops(evs))
	}
	for i, want := range []string{"dbserver1.public.customers", "dbserver1.inv.orders"} {
		e := evs[i]
		if e.Topic != want || e.Key != nil || e.Before != nil || e.After != nil || e.RowSchema == nil || e.Source.Table == "" {
			t.Errorf("event %d: %+v", i, e)
		}
		if e.Transaction.TotalOrder != int64(i+1) || e.Transaction.DataCollectionOrder != 1 {
			t.Errorf("transaction %+v", e.Transaction)
		}
	}
	if _, err := apply(t, d, encTruncate(relCustomers, 99), 0x320); err == nil || !strings.Contains(err.Error(), "not announced") {
		t.Errorf("unknown relation: %v", err)
	}
}

func TestTransactionMetadata(t *testing.T) {
	d := newTestDecoder(t, func(o *DecoderOptions) { o.TransactionMetadata = true })
	other := Table{RelationID: 3, Schema: "inv", Name: "orders", Columns: []Column{{Name: "id", TypeOID: oidInt8, TypeName: "int8", Typmod: -1, Key: true}}}
	d.SetTable(other)
	mustApply(t, d, encBegin(0x400, commitTime, 571), 0)
	var got []string
	for i, m := range [][]byte{encInsert(relCustomers, row("1")...), encInsert(3, txt("1")), encInsert(relCustomers, row("2")...)} {
		evs := mustApply(t, d, m, pglogrepl.LSN(53195829+i))
		tx := evs[0].Transaction
		got = append(got, tx.ID+"/"+strconv.FormatInt(tx.TotalOrder, 10)+"/"+strconv.FormatInt(tx.DataCollectionOrder, 10))
	}
	want := "571:53195829/1/1 571:53195830/2/1 571:53195831/3/2"
	if strings.Join(got, " ") != want {
		t.Errorf("got %s\nwant %s", strings.Join(got, " "), want)
	}
	mustApply(t, d, encCommit(0x400, 0x430, commitTime), 0x430)
	mustApply(t, d, encBegin(0x500, commitTime, 572), 0)
	evs := mustApply(t, d, encInsert(relCustomers, row("3")...), 0x510)
	if tx := evs[0].Transaction; tx.TotalOrder != 1 || tx.DataCollectionOrder != 1 {
		t.Errorf("counters not reset: %+v", tx)
	}
}

func TestMessageKeyColumns(t *testing.T) {
	d := newTestDecoder(t, func(o *DecoderOptions) {
		o.MessageKeyColumns = map[string][]string{"public.customers": {"last_name", "FIRST_NAME"}}
	})
	evs := mustApply(t, d, encInsert(relCustomers, row("1")...), 1)
	if got := show(evs[0].Key); got != `{last_name:"Kretchmar" first_name:"Anne"}` {
		t.Errorf("key %s", got)
	}
	// A pattern that matches the table but none of its columns keeps the
	// primary key; a regex table name matches.
	d = newTestDecoder(t, func(o *DecoderOptions) {
		o.MessageKeyColumns = map[string][]string{"(.*).cust.*": {"email"}, "public.customers": {"nope"}}
	})
	evs = mustApply(t, d, encInsert(relCustomers, row("1")...), 1)
	if got := show(evs[0].Key); got != `{email:"annek@noanswer.org"}` {
		t.Errorf("regex key %s", got)
	}
	d = newTestDecoder(t, func(o *DecoderOptions) { o.MessageKeyColumns = map[string][]string{"public.customers": {"nope"}} })
	evs = mustApply(t, d, encInsert(relCustomers, row("1")...), 1)
	if got := show(evs[0].Key); got != `{id:int32(1)}` {
		t.Errorf("fallback key %s", got)
	}
}

func TestValuesEqual(t *testing.T) {
	s := change.SparseDoubleVectorSchema(false)
	a := &change.Struct{Schema: s, Values: []any{int16(2), map[any]any{int16(1): 1.5}}}
	b := &change.Struct{Schema: s, Values: []any{int16(2), map[any]any{int16(1): 1.5}}}
	c := &change.Struct{Schema: s, Values: []any{int16(2), map[any]any{int16(2): 1.5}}}
	if !change.ValueEqual(a, b) || change.ValueEqual(a, c) {
		t.Error("map-valued structs")
	}
	if !change.ValueEqual([]byte{1}, []byte{1}) || change.ValueEqual([]byte{1}, "\x01") || !change.ValueEqual(nil, nil) ||
		!change.ValueEqual(map[string]any{"a": nil}, map[string]any{"a": nil}) || change.ValueEqual(int32(1), int64(1)) {
		t.Error("scalars")
	}
}

func TestCompositeKeyOrder(t *testing.T) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "p"})
	tbl := Table{RelationID: 4, Schema: "s", Name: "t", Columns: []Column{
		{Name: "a", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Key: true, KeySeq: 2},
		{Name: "b", TypeOID: oidInt4, TypeName: "int4", Typmod: -1},
		{Name: "c", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Key: true, KeySeq: 1},
	}}
	d.SetTable(tbl)
	evs := mustApply(t, d, encInsert(4, txt("1"), txt("2"), txt("3")), 1)
	if got := show(evs[0].Key); got != "{c:int32(3) a:int32(1)}" {
		t.Errorf("key %s", got)
	}
}

func TestSchemaChange(t *testing.T) {
	d := newTestDecoder(t, nil)
	// Re-announcing the same definition is not a change.
	if ev, err := d.SetTable(customers()); err != nil || ev != nil {
		t.Fatalf("same table: %v %v", ev, err)
	}
	changed := customers()
	changed.Columns = append(changed.Columns, Column{Name: "phone", TypeOID: oidText, TypeName: "text", Typmod: -1, Nullable: true})
	mustApply(t, d, encBegin(0x700, commitTime, 77), 0)
	ev, err := d.SetTable(changed)
	if err != nil || ev == nil {
		t.Fatalf("added column: %v %v", ev, err)
	}
	if ev.Topic != "dbserver1" || ev.Op != "" || ev.SchemaChange == nil || ev.Source.TxID != 77 {
		t.Errorf("event %+v", ev)
	}
	sc := ev.SchemaChange
	tc := sc.TableChanges[0]
	if sc.DatabaseName != "postgres" || sc.SchemaName != "public" || tc.Type != "ALTER" || tc.ID != `"public"."customers"` {
		t.Errorf("schema change %+v", sc)
	}
	if len(tc.Table.Columns) != 10 || tc.Table.Columns[9].Name != "phone" || tc.Table.Columns[9].Position != 10 ||
		strings.Join(tc.Table.PrimaryKeyColumnNames, ",") != "id" {
		t.Errorf("table %+v", tc.Table)
	}
	if c := tc.Table.Columns[6]; c.TypeExpression != "numeric(5,2)" || c.Length != 5 || c.Scale == nil || *c.Scale != 2 || c.JdbcType != 2 {
		t.Errorf("score column %+v", c)
	}
	if c := tc.Table.Columns[0]; !c.AutoIncremented || c.Optional || c.JdbcType != 4 || c.NativeType != oidInt4 {
		t.Errorf("id column %+v", c)
	}
	// Events now carry the new column.
	evs := mustApply(t, d, encInsert(relCustomers, append(row("5"), txt("555"))...), 0x710)
	if got := field(t, evs[0].After, "phone"); got != "555" {
		t.Errorf("phone %v", got)
	}
	// A type modifier change and a retype are changes too.
	retyped := changed
	retyped.Columns = append([]Column(nil), changed.Columns...)
	retyped.Columns[6].Typmod = numericMod(7, 3)
	if ev, _ := d.SetTable(retyped); ev == nil {
		t.Error("typmod change: no event")
	}
	// Renaming the table moves it to a new topic.
	renamed := retyped
	renamed.Name = "clients"
	if ev, _ := d.SetTable(renamed); ev == nil || ev.SchemaChange.TableChanges[0].ID != `"public"."clients"` {
		t.Errorf("rename: %+v", ev)
	}
	evs = mustApply(t, d, encInsert(relCustomers, append(row("6"), txt("6"))...), 0x720)
	if evs[0].Topic != "dbserver1.public.clients" {
		t.Errorf("topic after rename %q", evs[0].Topic)
	}
	// A recreated table (new relation ID, same name) is compared with the old definition.
	recreated := customers()
	recreated.RelationID = 99999
	if ev, _ := d.SetTable(recreated); ev != nil {
		t.Errorf("new relation under a new name: %+v", ev)
	}
	recreated.Columns = recreated.Columns[:3]
	if ev, _ := d.SetTable(recreated); ev == nil {
		t.Error("dropped columns: no event")
	}
}

func TestSchemaChangeViaRelationMessage(t *testing.T) {
	d := newTestDecoder(t, nil)
	tbl := customers()
	tbl.Columns = append(tbl.Columns, Column{Name: "extra", TypeOID: oidInt8, Typmod: -1})
	evs := mustApply(t, d, encRelation(tbl), 0)
	if ops(evs) != "schema" {
		t.Fatalf("ops %q", ops(evs))
	}
	cur, _ := d.Table(relCustomers)
	if c := cur.Columns[9]; c.Name != "extra" || c.TypeName != "int8" || !c.Nullable {
		t.Errorf("merged column %+v", c)
	}
	if c := cur.Columns[1]; c.Nullable || c.TypeName != "varchar" {
		t.Errorf("catalog column lost: %+v", c)
	}
	// The same relation message again: no event.
	if evs := mustApply(t, d, encRelation(tbl), 0); len(evs) != 0 {
		t.Errorf("repeated relation: %q", ops(evs))
	}
}

func TestTableFromRelation(t *testing.T) {
	rel := parse(t, encRelation(Table{RelationID: 5, Schema: "s", Name: "t", ReplicaIdentity: 'd', Columns: []Column{
		{Name: "id", TypeOID: oidInt8, Typmod: -1, Key: true},
		{Name: "tags", TypeOID: 1009, Typmod: -1},
		{Name: "d", TypeOID: 70000, Typmod: -1}, // a domain over numeric(5,2)
		{Name: "changed", TypeOID: oidText, Typmod: -1},
	}})).(*pglogrepl.RelationMessage)

	// No catalog: built-in names, nullable, key from the replica identity flags.
	got := TableFromRelation(rel, nil)
	if got.Schema != "s" || got.Name != "t" || got.RelationID != 5 || got.ReplicaIdentity != 'd' {
		t.Errorf("table %+v", got)
	}
	if c := got.Columns[0]; c.TypeName != "int8" || !c.Nullable || !c.Key {
		t.Errorf("id %+v", c)
	}
	if c := got.Columns[1]; c.TypeName != "_text" || c.ElemOID != oidText || c.ElemTypeName != "text" {
		t.Errorf("tags %+v", c)
	}
	if c := got.Columns[2]; c.TypeName != "" {
		t.Errorf("unknown type %+v", c)
	}

	catalog := &Table{Columns: []Column{
		{Name: "id", TypeOID: oidInt8, TypeName: "int8", Typmod: -1, Key: true, KeySeq: 1},
		{Name: "d", TypeOID: oidNumeric, TypeName: "numeric", Typmod: numericMod(5, 2), Nullable: true},
		{Name: "changed", TypeOID: oidInt4, TypeName: "int4", Typmod: -1, Default: "0"}, // stale: now text
		{Name: "dropped", TypeOID: oidInt4, TypeName: "int4", Typmod: -1},
	}}
	got = TableFromRelation(rel, catalog)
	if c := got.Columns[0]; c.Nullable || !c.Key || c.KeySeq != 1 {
		t.Errorf("id %+v", c)
	}
	if c := got.Columns[1]; !c.Nullable || c.Key {
		t.Errorf("tags (not in catalog, catalog has a key) %+v", c)
	}
	if c := got.Columns[2]; c.TypeOID != oidNumeric || c.TypeName != "numeric" || c.Typmod != numericMod(5, 2) {
		t.Errorf("domain %+v", c)
	}
	if c := got.Columns[3]; c.TypeOID != oidText || c.TypeName != "text" || c.Default != "" || c.Nullable {
		t.Errorf("stale column %+v", c)
	}
	if len(got.Columns) != 4 {
		t.Errorf("columns %d", len(got.Columns))
	}

	// REPLICA IDENTITY FULL flags every column; without a catalog that is
	// not a key.
	full := parse(t, encRelation(Table{RelationID: 6, Schema: "s", Name: "f", ReplicaIdentity: 'f', Columns: []Column{
		{Name: "a", TypeOID: oidInt4, Typmod: -1, Key: true}, {Name: "b", TypeOID: oidText, Typmod: -1, Key: true},
	}})).(*pglogrepl.RelationMessage)
	for _, c := range TableFromRelation(full, nil).Columns {
		if c.Key {
			t.Errorf("FULL identity column %s became a key", c.Name)
		}
	}
}

func TestReadRow(t *testing.T) {
	d := newTestDecoder(t, nil)
	vals := make([][]byte, 9)
	for i, c := range row("7") {
		vals[i] = []byte(c.text)
	}
	vals[4] = nil
	src := change.Source{Snapshot: "true", TsUs: 123, LSN: 0x900, TxID: 42}
	ev, err := d.ReadRow(relCustomers, vals, nil, src)
	if err != nil {
		t.Fatal(err)
	}
	// The caller may reuse its buffers.
	for _, v := range vals {
		for i := range v {
			v[i] = 'X'
		}
	}
	if ev.Op != "r" || ev.Before != nil || show(ev.Key) != "{id:int32(7)}" || ev.Transaction != nil {
		t.Errorf("event %+v", ev)
	}
	if got := show(ev.After); got != `{id:int32(7) first_name:"Anne" last_name:"Kretchmar" email:"annek@noanswer.org" bio:nil tags:["a" "b"] score:bytes(0096) doc:bytes(0102)}` {
		t.Errorf("after %s", got)
	}
	want := change.Source{Version: "0.1.0", Connector: "postgresql", Name: "dbserver1", TsUs: 123, Snapshot: "true",
		DB: "postgres", Sequence: `[null,"2304"]`, Schema: "public", Table: "customers", TxID: 42, LSN: 0x900}
	if ev.Source != want {
		t.Errorf("source\n got %+v\nwant %+v", ev.Source, want)
	}
	if _, err := d.ReadRow(relCustomers, vals[:3], nil, src); err == nil {
		t.Error("short row: no error")
	}
	if _, err := d.ReadRow(4711, vals, nil, src); err == nil {
		t.Error("unknown relation: no error")
	}
}

func TestDecodeErrors(t *testing.T) {
	d := newTestDecoder(t, nil)
	cases := []struct {
		msg  []byte
		want string
	}{
		{encInsert(4711, txt("1")), "relation 4711 was not announced"},
		{encInsert(relCustomers, txt("1"), txt("x")), "tuple has 2 columns, the relation has 9"},
		{encInsert(relCustomers, append([]tcol{txt("12x")}, row("1")[1:]...)...), `public.customers.id (int4): invalid integer: "12x"`},
		{encInsert(relCustomers, append(row("1")[:6], txt("1.5.0"), txt(`\x`), txt(""))...), `public.customers.score (numeric): invalid numeric: "1.5.0"`},
		{encInsert(relCustomers, append(row("1")[:7], txt("zz"), txt(""))...), `public.customers.doc (bytea)`},
		{encUpdate(relCustomers, 'K', []tcol{txt("a")}, row("1")...), "update (old tuple)"},
		{encDelete(relCustomers, 'K', txt("1")), "tuple has 1 columns"},
	}
	for _, tc := range cases {
		_, err := apply(t, d, tc.msg, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want error containing %q", err, tc.want)
		}
	}
	// Long text is cut in the message.
	long := strings.Repeat("9", 500)
	_, err := apply(t, d, encInsert(relCustomers, append([]tcol{txt(long)}, row("1")[1:]...)...), 1)
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("long value error: %v", err)
	}
	// NOT NULL column with an unrepresentable value fails.
	tbl := Table{RelationID: 6, Schema: "s", Name: "n", Columns: []Column{{Name: "v", TypeOID: oidNumeric, TypeName: "numeric", Typmod: -1}}}
	d.SetTable(tbl)
	if _, err := apply(t, d, encInsert(6, txt("NaN")), 1); err == nil || !strings.Contains(err.Error(), "NOT NULL") {
		t.Errorf("NaN in NOT NULL precise numeric: %v", err)
	}
	// Hand-built messages without tuples.
	if _, err := d.Insert(&pglogrepl.InsertMessage{RelationID: relCustomers}, 1); !errors.Is(err, errNoTuple) {
		t.Errorf("insert without tuple: %v", err)
	}
	if _, err := d.Update(&pglogrepl.UpdateMessage{RelationID: relCustomers}, 1); !errors.Is(err, errNoTuple) {
		t.Errorf("update without tuple: %v", err)
	}
	if _, err := d.Delete(&pglogrepl.DeleteMessage{RelationID: relCustomers}, 1); !errors.Is(err, errNoTuple) {
		t.Errorf("delete without tuple: %v", err)
	}
	if _, err := d.Insert(nil, 1); err == nil {
		t.Error("nil insert")
	}
	bin := &pglogrepl.InsertMessage{RelationID: 6, Tuple: &pglogrepl.TupleData{Columns: []*pglogrepl.TupleDataColumn{{DataType: 'b', Data: []byte{1}}}}}
	if _, err := d.Insert(bin, 1); err == nil || !strings.Contains(err.Error(), "binary") {
		t.Errorf("binary tuple: %v", err)
	}
}

func TestSetTableErrors(t *testing.T) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "p"})
	for _, tbl := range []Table{
		{RelationID: 1, Schema: "", Name: "t"},
		{RelationID: 1, Schema: "s", Name: "t", Columns: []Column{{Name: ""}}},
		{RelationID: 1, Schema: "s", Name: "t", Columns: []Column{{Name: "a", TypeOID: oidInt4}, {Name: "a", TypeOID: oidInt4}}},
	} {
		if _, err := d.SetTable(tbl); err == nil {
			t.Errorf("%+v: no error", tbl)
		}
	}
	bad := NewDecoder(DecoderOptions{DecimalMode: "exact"})
	if _, err := bad.SetTable(customers()); err == nil {
		t.Error("bad options: no error")
	}
}

func TestParseMessageNeverPanics(t *testing.T) {
	for _, b := range [][]byte{nil, {'I'}, {'I', 0, 0, 0, 1, 'N', 0, 5}, {'R', 0, 0, 0, 1}, {'U', 0, 0, 0, 1, 'K', 0, 1, 't', 0, 0, 0, 9}, {'T', 0, 0, 0, 9, 0},
		// Counts that would make pglogrepl allocate gigabytes.
		{'T', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1},
		{'I', 0, 0, 0, 1, 'N', 0, 1, 't', 0x7f, 0xff, 0xff, 0xff, 1},
		{'R', 0, 0, 0, 1, 's', 0, 't', 0, 'd', 0xff, 0xff},
		{'U', 0, 0, 0, 1, 'O', 0, 0, 'X', 0, 0},
		{'X', 1, 2, 3},
	} {
		if _, err := ParseMessage(b); err == nil {
			t.Errorf("%q: no error", b)
		}
	}
}

// FuzzDecodePgoutput feeds arbitrary bytes through pglogrepl (via
// ParseMessage) into a decoder with a registered relation; nothing may
// panic.
func FuzzDecodePgoutput(f *testing.F) {
	f.Add(encBegin(0x200, commitTime, 1))
	f.Add(encInsert(relCustomers, row("1")...))
	f.Add(encUpdate(relCustomers, 'K', []tcol{txt("1"), null, null, null, null, null, null, null, null}, row("2")...))
	f.Add(encUpdate(relCustomers, 'O', row("1"), append(row("1")[:4], toast, toast, toast, toast, null)...))
	f.Add(encDelete(relCustomers, 'O', row("1")...))
	f.Add(encTruncate(relCustomers, 7))
	f.Add(encRelation(customers()))
	f.Add(encCommit(0x200, 0x230, commitTime))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := newTestDecoder(t, func(o *DecoderOptions) { o.TransactionMetadata = true })
		msg, err := ParseMessage(b)
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pglogrepl.BeginMessage:
			d.Begin(m)
		case *pglogrepl.CommitMessage:
			d.Commit(m)
		case *pglogrepl.RelationMessage:
			cur, _ := d.Table(m.RelationID)
			_, _ = d.SetTable(TableFromRelation(m, &cur))
		case *pglogrepl.InsertMessage:
			_, _ = d.Insert(m, 1)
		case *pglogrepl.UpdateMessage:
			_, _ = d.Update(m, 1)
		case *pglogrepl.DeleteMessage:
			_, _ = d.Delete(m, 1)
		case *pglogrepl.TruncateMessage:
			_, _ = d.Truncate(m, 1)
		}
	})
}

// ---- benchmark ----------------------------------------------------------------------

// benchTable has ten mixed columns.
func benchTable() Table {
	return Table{RelationID: 1, Schema: "public", Name: "orders", Columns: []Column{
		{Name: "id", TypeOID: oidInt8, TypeName: "int8", Typmod: -1, Key: true, KeySeq: 1},
		{Name: "customer", TypeOID: oidInt4, TypeName: "int4", Typmod: -1},
		{Name: "status", TypeOID: oidVarchar, TypeName: "varchar", Typmod: charMod(32)},
		{Name: "note", TypeOID: oidText, TypeName: "text", Typmod: -1, Nullable: true},
		{Name: "amount", TypeOID: oidNumeric, TypeName: "numeric", Typmod: numericMod(12, 2)},
		{Name: "created", TypeOID: oidTimestamptz, TypeName: "timestamptz", Typmod: -1},
		{Name: "paid", TypeOID: oidBool, TypeName: "bool", Typmod: -1},
		{Name: "ref", TypeOID: oidUUID, TypeName: "uuid", Typmod: -1, Nullable: true},
		{Name: "attrs", TypeOID: oidJSONB, TypeName: "jsonb", Typmod: -1, Nullable: true},
		{Name: "weight", TypeOID: oidFloat8, TypeName: "float8", Typmod: -1, Nullable: true},
	}}
}

func benchRow() []tcol {
	return []tcol{txt("1234567"), txt("4242"), txt("shipped"), txt("leave at the door"), txt("1234.50"),
		txt("2024-05-06 07:08:09.123456+00"), txt("t"), txt("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
		txt(`{"gift": true, "lines": 3}`), txt("12.75")}
}

func BenchmarkDecodeInsert(b *testing.B) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "bench", Database: "db", Version: "0", Tombstones: true})
	if _, err := d.SetTable(benchTable()); err != nil {
		b.Fatal(err)
	}
	d.Begin(&pglogrepl.BeginMessage{FinalLSN: 0x100, CommitTime: commitTime, Xid: 1})
	m := parse(b, encInsert(1, benchRow()...)).(*pglogrepl.InsertMessage)
	dst := make([]change.Event, 0, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		dst, err = d.AppendInsert(dst[:0], m, pglogrepl.LSN(0x100+i))
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeUpdate decodes an update whose old tuple (REPLICA
// IDENTITY FULL) has the same key: the key comparison is on its path.
func BenchmarkDecodeUpdate(b *testing.B) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "bench", Database: "db", Version: "0", Tombstones: true})
	if _, err := d.SetTable(benchTable()); err != nil {
		b.Fatal(err)
	}
	d.Begin(&pglogrepl.BeginMessage{FinalLSN: 0x100, CommitTime: commitTime, Xid: 1})
	m := parse(b, encUpdate(1, 'O', benchRow(), benchRow()...)).(*pglogrepl.UpdateMessage)
	dst := make([]change.Event, 0, 3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		dst, err = d.AppendUpdate(dst[:0], m, pglogrepl.LSN(0x100+i))
		if err != nil || len(dst) != 1 {
			b.Fatal(len(dst), err)
		}
	}
}

// BenchmarkDecodeDelete decodes a delete followed by its tombstone.
func BenchmarkDecodeDelete(b *testing.B) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "bench", Database: "db", Version: "0", Tombstones: true})
	if _, err := d.SetTable(benchTable()); err != nil {
		b.Fatal(err)
	}
	d.Begin(&pglogrepl.BeginMessage{FinalLSN: 0x100, CommitTime: commitTime, Xid: 1})
	m := parse(b, encDelete(1, 'O', benchRow()...)).(*pglogrepl.DeleteMessage)
	dst := make([]change.Event, 0, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		dst, err = d.AppendDelete(dst[:0], m, pglogrepl.LSN(0x100+i))
		if err != nil || len(dst) != 2 {
			b.Fatal(len(dst), err)
		}
	}
}

// BenchmarkParseDecodeInsert includes pglogrepl's parsing of the message.
func BenchmarkParseDecodeInsert(b *testing.B) {
	d := NewDecoder(DecoderOptions{TopicPrefix: "bench", Database: "db", Version: "0", Tombstones: true})
	if _, err := d.SetTable(benchTable()); err != nil {
		b.Fatal(err)
	}
	d.Begin(&pglogrepl.BeginMessage{FinalLSN: 0x100, CommitTime: commitTime, Xid: 1})
	raw := encInsert(1, benchRow()...)
	dst := make([]change.Event, 0, 1)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := pglogrepl.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		dst, err = d.AppendInsert(dst[:0], m.(*pglogrepl.InsertMessage), pglogrepl.LSN(0x100+i))
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestCodecAcceptsEvents encodes the decoder's events with the change
// package's JSON encoder.
func TestCodecAcceptsEvents(t *testing.T) {
	enc := change.NewJSONEncoder(change.JSONOptions{Schemas: false})
	d := newTestDecoder(t, func(o *DecoderOptions) { o.TransactionMetadata = true })
	var evs []change.Event
	evs = append(evs, mustApply(t, d, encBegin(0x200, commitTime, 9), 0)...)
	evs = append(evs, mustApply(t, d, encInsert(relCustomers, row("1")...), 0x210)...)
	old := []tcol{txt("1"), null, null, null, null, null, null, null, null}
	evs = append(evs, mustApply(t, d, encUpdate(relCustomers, 'K', old, row("2")...), 0x220)...)
	evs = append(evs, mustApply(t, d, encTruncate(relCustomers), 0x230)...)
	changed := customers()
	changed.Columns = changed.Columns[:4]
	ev, err := d.SetTable(changed)
	if err != nil || ev == nil {
		t.Fatal(err)
	}
	evs = append(evs, *ev)
	for i := range evs {
		key, val, err := enc.Encode(&evs[i])
		if err != nil {
			t.Fatalf("event %d (%s): %v", i, ops(evs[i:i+1]), err)
		}
		if i == 0 {
			if string(key) != `{"id":1}` {
				t.Errorf("key %s", key)
			}
			for _, want := range []string{`"op":"c"`, `"before":null`, `"first_name":"Anne"`, `"score":"AJY="`, `"txId":9`, `"lsn":528`,
				`"sequence":"[null,\"528\"]"`, `"transaction":{"id":"9:528","total_order":1,"data_collection_order":1}`} {
				if !strings.Contains(string(val), want) {
					t.Errorf("value lacks %s:\n%s", want, val)
				}
			}
		}
	}
}
