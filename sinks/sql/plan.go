package sql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/change"
)

type opKind int

const (
	opSkip opKind = iota
	opUpsert
	opDelete
	opTruncate
)

// op is what one record does to one table, with bound values.
type op struct {
	kind    opKind
	t       *table
	keyCols []string // primary key columns; empty for a keyless table
	key     []any    // bound key values
	keyStr  string   // identity of key within the batch
	cols    []string // upsert: every column (shared: read only)
	colSig  string   // upsert: cols joined with NULs
	vals    []any
}

// dataError is a record-level problem found before talking to the
// database (no key, missing table with auto_create off, bad value).
type dataError struct{ err error }

func (e dataError) Error() string { return e.err.Error() }
func (e dataError) Unwrap() error { return e.err }

func dataErrorf(format string, args ...any) error { return dataError{fmt.Errorf(format, args...)} }

// errKeyless rejects an update or delete of a row without a key: nothing
// identifies the target row, and appending or ignoring it would let the
// target drift from the source silently.
func errKeyless(op change.Op) error {
	return dataErrorf("op %s on a table without a primary key (null record key) cannot be applied: "+
		"use primary_key.mode: record_value with primary_key.fields, or give the source table a key", op)
}

// column is a field of a record with its schema and physical value.
type column struct {
	name   string
	schema *change.Schema
	value  any
}

// plan turns a record into an op, creating or widening its table first.
func (s *Sink) plan(ctx context.Context, r Record) (op, error) {
	e := r.Event
	if e == nil {
		return op{}, nil
	}
	// A sink transform (route) may have renamed the topic: tables follow
	// the event's topic, offsets the record's.
	topic := r.Topic
	if e.Topic != "" {
		topic = e.Topic
	}
	if e.SchemaChange != nil {
		return op{}, s.applySchemaChange(ctx, topic, e)
	}
	switch {
	case e.Tombstone:
		if !s.o.DeleteEnabled || s.o.PrimaryKeyMode != PrimaryKeyRecordKey || e.Key == nil {
			return op{}, nil
		}
		return s.planDelete(ctx, topic, nil, nil, e.Key)
	case e.Op == change.OpTruncate:
		t, err := s.lookup(ctx, s.tableID(topic, &e.Source))
		if err != nil || t == nil {
			return op{}, err
		}
		return op{kind: opTruncate, t: t}, nil
	case e.Op == change.OpDelete:
		if !s.o.DeleteEnabled {
			return op{}, nil
		}
		if s.o.PrimaryKeyMode == PrimaryKeyRecordKey && e.Key == nil {
			return op{}, errKeyless(e.Op)
		}
		return s.planDelete(ctx, topic, &e.Source, e.Before, e.Key)
	case e.IsRow() || (e.Op == "" && e.After != nil):
		if e.After == nil {
			return op{}, dataErrorf("%s event without an after image", e.Op)
		}
		pre, _ := r.Prepared.(*prepared)
		return s.planUpsert(ctx, topic, e, pre)
	}
	return op{}, nil
}

// bindKeyFields binds the key fields of sh, from row and key, and returns
// the bound values and the key's identity within the batch.
func (s *Sink) bindKeyFields(sh *shape, row, key *change.Struct) ([]any, string, error) {
	var buf [64]byte
	kb := buf[:0]
	vals := make([]any, len(sh.keyCols))
	for i, r := range sh.keyRefs {
		name, v := sh.keyCols[i], r.value(row, key)
		if v == nil {
			return nil, "", dataErrorf("key field %s is null", name)
		}
		nv, err := neutral(sh.keySchemas[i], v)
		if err != nil {
			return nil, "", dataErrorf("key field %s: %w", name, err)
		}
		vals[i] = s.d.bind(nv)
		kb = appendKeyPart(kb, vals[i])
	}
	return vals, string(kb), nil
}

// appendKeyPart appends a bound key value's identity: its type, and its
// value (length-prefixed, so that composite keys cannot run together).
func appendKeyPart(b []byte, v any) []byte {
	switch x := v.(type) {
	case int64:
		b = append(b, 'i')
		b = strconv.AppendInt(b, x, 10)
	case string:
		b = append(b, 's')
		b = strconv.AppendInt(b, int64(len(x)), 10)
		b = append(b, ':')
		b = append(b, x...)
	case []byte:
		b = append(b, 'b')
		b = strconv.AppendInt(b, int64(len(x)), 10)
		b = append(b, ':')
		b = append(b, x...)
	default:
		s := fmt.Sprintf("%T:%v", v, v)
		b = append(b, 'o')
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	return b
}

// planDelete deletes the row whose key the shape of row and key picks
// (primary_key.mode): nothing when it has none.
func (s *Sink) planDelete(ctx context.Context, topic string, src *change.Source, row, key *change.Struct) (op, error) {
	sh := s.shapeOf(row, key)
	if len(sh.keyCols) == 0 {
		return op{}, nil
	}
	t, err := s.lookup(ctx, s.tableID(topic, src))
	if err != nil || t == nil {
		return op{}, err // no table: nothing to delete
	}
	vals, id, err := s.bindKeyFields(sh, row, key)
	if err != nil {
		return op{}, err
	}
	return op{kind: opDelete, t: t, keyCols: sh.keyCols, key: vals, keyStr: id}, nil
}

func (s *Sink) planUpsert(ctx context.Context, topic string, e *change.Event, pre *prepared) (op, error) {
	sh := s.shapeOf(e.After, e.Key)
	if len(sh.keyCols) == 0 && e.Op == change.OpUpdate {
		return op{}, errKeyless(e.Op)
	}
	id := s.tableID(topic, &e.Source)
	var t *table
	if known := s.tables[id]; known != nil && known.checked[sh.sig] {
		t = known // every column of these schemas exists
	} else {
		cols := make([]column, len(sh.cols))
		for i, r := range sh.refs {
			cols[i] = column{sh.cols[i], sh.schemas[i], r.value(e.After, e.Key)}
		}
		var err error
		if t, err = s.ensure(ctx, id, cols, sh.keyCols); err != nil {
			return op{}, err
		}
		if t.checked == nil || len(t.checked) >= 1024 {
			t.checked = map[[2]*change.Schema]bool{}
		}
		t.checked[sh.sig] = true
	}
	p := pre
	if p == nil || p.sh != sh {
		p = s.bindRow(sh, e)
	}
	if p.err != nil {
		return op{}, p.err
	}
	o := op{kind: opUpsert, t: t, cols: sh.cols, colSig: sh.colSig, vals: p.vals}
	if len(sh.keyCols) > 0 {
		o.keyCols, o.key, o.keyStr = sh.keyCols, p.key, p.keyStr
	}
	return o, nil
}

// prepared is a row event's values bound for its shape's columns and key,
// by Prepare ahead of Write, or by Write itself.
type prepared struct {
	sh     *shape
	vals   []any
	key    []any
	keyStr string
	err    error // a value that cannot be bound (a data error)
}

// bindRow binds e's after image to sh's columns and key.
func (s *Sink) bindRow(sh *shape, e *change.Event) *prepared {
	p := &prepared{sh: sh, vals: make([]any, len(sh.cols))}
	for i, r := range sh.refs {
		n, err := neutral(sh.schemas[i], r.value(e.After, e.Key))
		if err != nil {
			p.err = dataErrorf("field %s: %w", sh.cols[i], err)
			return p
		}
		p.vals[i] = s.d.bind(n)
	}
	if len(sh.keyCols) > 0 {
		p.key, p.keyStr, p.err = s.bindKeyFields(sh, e.After, e.Key)
	}
	return p
}

// Prepare binds a row event's values for Write, without the database, and
// returns them for the record's Prepared (nil for other events, which
// Write plans itself). The sink task calls it on the goroutine that
// decodes records ahead of the writer, which then only checks tables and
// applies (binding was ~0.6 s per million rows of the writer's time, half
// of its planning). It is safe to call while Write runs.
func (s *Sink) Prepare(e *change.Event) any {
	if e == nil || e.SchemaChange != nil || e.Tombstone || e.After == nil || e.Op == change.OpDelete || !(e.IsRow() || e.Op == "") {
		return nil
	}
	return s.bindRow(s.shapeOf(e.After, e.Key), e)
}

// shape is what planUpsert and planDelete derive from a record's row and
// key schemas alone: its columns, where each value comes from, and its key
// (per primary_key.mode and .fields). Records of a table share their
// schemas, so a batch computes it once per table.
type shape struct {
	sig        [2]*change.Schema // row schema, key schema (nil: no key struct)
	cols       []string          // the row's fields, then key fields missing from it (record_key)
	schemas    []*change.Schema
	refs       []fieldRef
	colSig     string // cols joined: ops with equal column lists share a statement
	keyCols    []string
	keySchemas []*change.Schema
	keyRefs    []fieldRef
}

// fieldRef is a field of the row or of the key struct.
type fieldRef struct {
	inKey bool
	i     int
}

func (r fieldRef) value(row, key *change.Struct) any {
	st := row
	if r.inKey {
		st = key
	}
	if st == nil || r.i >= len(st.Values) {
		return nil
	}
	return st.Values[r.i]
}

// shapeOf returns the shape of records with row and key's schemas (either
// may be nil: a tombstone has no row).
func (s *Sink) shapeOf(row, key *change.Struct) *shape {
	var sig [2]*change.Schema
	if row != nil {
		sig[0] = row.Schema
	}
	if key != nil {
		sig[1] = key.Schema
	}
	s.shapesMu.Lock()
	defer s.shapesMu.Unlock()
	if sh := s.shapes[sig]; sh != nil {
		return sh
	}
	sh := &shape{sig: sig}
	add := func(name string, sc *change.Schema, r fieldRef) {
		sh.cols, sh.schemas, sh.refs = append(sh.cols, name), append(sh.schemas, sc), append(sh.refs, r)
	}
	addKey := func(name string, sc *change.Schema, r fieldRef) {
		sh.keyCols, sh.keySchemas, sh.keyRefs = append(sh.keyCols, name), append(sh.keySchemas, sc), append(sh.keyRefs, r)
	}
	var rowFields []change.Field
	if sig[0] != nil {
		rowFields = sig[0].Fields
	}
	for i, f := range rowFields {
		add(f.Name, f.Schema, fieldRef{i: i})
	}
	switch {
	case s.o.PrimaryKeyMode == PrimaryKeyRecordKey && key != nil && key.Schema != nil:
		for i, f := range key.Schema.Fields {
			if len(s.o.PrimaryKeyFields) > 0 && !contains(s.o.PrimaryKeyFields, f.Name) {
				continue
			}
			r := fieldRef{inKey: true, i: i}
			addKey(f.Name, f.Schema, r)
			// Key fields missing from the row come from the key.
			if !contains(sh.cols[:len(rowFields)], f.Name) {
				add(f.Name, f.Schema, r)
			}
		}
	case s.o.PrimaryKeyMode != PrimaryKeyRecordKey:
		if len(s.o.PrimaryKeyFields) == 0 {
			for i, f := range rowFields {
				addKey(f.Name, f.Schema, fieldRef{i: i})
			}
			break
		}
		for _, name := range s.o.PrimaryKeyFields {
			for i, f := range rowFields {
				if f.Name == name {
					addKey(f.Name, f.Schema, fieldRef{i: i})
				}
			}
		}
	}
	sh.colSig = strings.Join(sh.cols, "\x00")
	if s.shapes == nil || len(s.shapes) >= 1024 {
		s.shapes = map[[2]*change.Schema]*shape{}
	}
	s.shapes[sig] = sh
	return sh
}

// tableID resolves the table name template for a record.
func (s *Sink) tableID(topic string, src *change.Source) tableID {
	if src != nil && src.Table != "" {
		if last, ok := s.topics[topic]; !ok || last.Table != src.Table || last.Schema != src.Schema || last.DB != src.DB {
			s.topics[topic] = *src
		}
	}
	return s.tableIDFor(topic, src)
}

// tableIDFor names the table of a record on topic with source block src
// (nil: the last one seen on the topic, or one derived from the topic).
func (s *Sink) tableIDFor(topic string, src *change.Source) tableID {
	switch cached, ok := s.topics[topic]; {
	case src != nil && src.Table != "":
	case ok:
		src = &cached
	default:
		// <prefix>.<schema or db>.<table>
		parts := strings.Split(topic, ".")
		d := change.Source{Table: parts[len(parts)-1]}
		if len(parts) >= 2 {
			d.Schema, d.DB = parts[len(parts)-2], parts[len(parts)-2]
		}
		src = &d
	}
	k := nameKey{topic: topic, table: src.Table, schema: src.Schema, db: src.DB}
	if name, ok := s.names[k]; ok {
		return tableID{schema: s.o.Schema, name: name}
	}
	name := strings.NewReplacer(
		"${topic}", strings.ReplaceAll(topic, ".", "_"),
		"${source.table}", src.Table,
		"${source.schema}", src.Schema,
		"${source.db}", src.DB,
	).Replace(s.o.Table)
	if s.names == nil || len(s.names) >= 4096 {
		s.names = map[nameKey]string{}
	}
	s.names[k] = name
	return tableID{schema: s.o.Schema, name: name}
}

// nameKey is what a table name made from the template depends on.
type nameKey struct{ topic, table, schema, db string }

// lookup returns the table, or nil when it does not exist.
func (s *Sink) lookup(ctx context.Context, id tableID) (*table, error) {
	if t, ok := s.tables[id]; ok {
		return t, nil
	}
	cols, exists, err := s.d.columns(ctx, s.db, id.schema, id.name)
	if err != nil {
		return nil, fmt.Errorf("sql sink: columns of %s: %w", qualified(s.d, id), err)
	}
	if !exists {
		return nil, nil
	}
	t := &table{id: id, q: qualified(s.d, id), cols: map[string]bool{}}
	for _, c := range cols {
		t.cols[s.d.fold(c)] = true
	}
	s.tables[id] = t
	return t, nil
}

// ensure returns the table for a row, creating it or adding columns.
func (s *Sink) ensure(ctx context.Context, id tableID, cols []column, key []string) (*table, error) {
	t, err := s.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	q := qualified(s.d, id)
	if t == nil {
		if !s.o.AutoCreate {
			return nil, dataErrorf("table %s does not exist and auto_create is off", q)
		}
		var b strings.Builder
		b.WriteString("CREATE TABLE IF NOT EXISTS " + q + " (")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			isKey := contains(key, c.name)
			b.WriteString(s.d.quote(c.name) + " " + s.d.columnType(c.schema, isKey))
			if isKey {
				b.WriteString(" NOT NULL")
			}
		}
		if len(key) > 0 {
			b.WriteString(", PRIMARY KEY (" + s.columnList(key) + ")")
		}
		b.WriteString(")")
		if _, err := s.db.ExecContext(ctx, b.String()); err != nil {
			return nil, fmt.Errorf("sql sink: create table %s: %w", q, err)
		}
		s.log.Info("created table", "table", q)
		if t, err = s.lookup(ctx, id); err != nil {
			return nil, err
		}
		if t == nil {
			return nil, fmt.Errorf("sql sink: table %s not found after creating it", q)
		}
	}
	for _, c := range cols {
		if t.cols[s.d.fold(c.name)] {
			continue
		}
		if !s.o.AutoEvolve {
			return nil, dataErrorf("table %s has no column %s and auto_evolve is off", q, c.name)
		}
		if _, err := s.db.ExecContext(ctx, s.d.addColumn(q, c.name, s.d.columnType(c.schema, false))); err != nil {
			delete(s.tables, id)
			return nil, fmt.Errorf("sql sink: add column %s to %s: %w", c.name, q, err)
		}
		s.log.Info("added column", "table", q, "column", c.name)
		t.cols[s.d.fold(c.name)] = true
	}
	return t, nil
}

// applyOne applies one op in its own statement.
func (s *Sink) applyOne(ctx context.Context, tx *txn, o *op) (int, error) {
	switch o.kind {
	case opTruncate:
		_, err := tx.ExecContext(ctx, s.d.truncate(o.t.q))
		return 0, err
	case opDelete:
		return s.deleteRows(ctx, tx, o.t.q, o.keyCols, [][]any{o.key})
	case opUpsert:
		switch {
		case s.o.InsertMode == InsertModeUpdate && len(o.keyCols) > 0:
			return s.update(ctx, tx, o)
		case s.o.InsertMode == InsertModeUpsert && len(o.keyCols) > 0:
			return s.insertRows(ctx, tx, o.t.q, o.cols, [][]any{o.vals}, s.d.upsertSuffix(o.keyCols, o.cols))
		}
		return s.insertRows(ctx, tx, o.t.q, o.cols, [][]any{o.vals}, "")
	}
	return 0, nil
}

// appendRows inserts rows: with COPY where the dialect has it and the
// rows are many, else in multi-row INSERTs.
func (s *Sink) appendRows(ctx context.Context, tx *txn, t *table, cols []string, rows [][]any) (int, error) {
	if s.canCopy(len(rows), false) {
		n, err := s.copyRows(ctx, tx, t, "", cols, rows)
		if !errors.Is(err, errNoCopy) {
			return n, err
		}
	}
	return s.insertRows(ctx, tx, t.q, cols, rows, "")
}

// upsertRows upserts rows on key pk: through a staging table where the
// dialect has COPY and the rows are many, else in multi-row INSERTs.
func (s *Sink) upsertRows(ctx context.Context, tx *txn, t *table, cols, pk []string, rows [][]any) (int, error) {
	if s.canCopy(len(rows), true) {
		n, err := s.copyUpsert(ctx, tx, t, cols, pk, rows)
		if !errors.Is(err, errNoCopy) {
			return n, err
		}
	}
	return s.insertRows(ctx, tx, t.q, cols, rows, s.d.upsertSuffix(pk, cols))
}

// tableOps is one table's share of a batch, compacted: the last op per key
// wins, a truncate drops what came before it.
type tableOps struct {
	t        *table
	truncate bool
	order    []string
	final    map[string]*op
	deleted  map[string]bool // keys deleted at some point of the batch
	keyless  []*op
}

// applyCompacted applies a batch table by table: truncate, deletes, then
// multi-row inserts/upserts grouped by column list.
func (s *Sink) applyCompacted(ctx context.Context, tx *txn, ops []op) (int, error) {
	var order []*table
	byTable := map[*table]*tableOps{}
	for i := range ops {
		o := &ops[i]
		if o.kind == opSkip {
			continue
		}
		to := byTable[o.t]
		if to == nil {
			to = &tableOps{t: o.t, final: map[string]*op{}, deleted: map[string]bool{}}
			byTable[o.t] = to
			order = append(order, o.t)
		}
		switch {
		case o.kind == opTruncate:
			*to = tableOps{t: o.t, truncate: true, final: map[string]*op{}, deleted: map[string]bool{}}
		case o.kind == opUpsert && len(o.keyCols) == 0:
			to.keyless = append(to.keyless, o)
		default:
			if _, ok := to.final[o.keyStr]; !ok {
				to.order = append(to.order, o.keyStr)
			}
			to.final[o.keyStr] = o
			if o.kind == opDelete {
				to.deleted[o.keyStr] = true
			}
		}
	}
	total := 0
	for _, t := range order {
		to := byTable[t]
		if to.truncate {
			if _, err := tx.ExecContext(ctx, s.d.truncate(t.q)); err != nil {
				return 0, err
			}
		}
		// Deletes, grouped by key column list.
		type group struct {
			cols []string
			rows [][]any
			ops  []*op
		}
		var dels, ups []*group
		delIdx, upIdx := map[string]*group{}, map[string]*group{}
		add := func(idx map[string]*group, list *[]*group, cols []string, sig string, row []any, o *op) {
			if sig == "" {
				sig = strings.Join(cols, "\x00")
			}
			g := idx[sig]
			if g == nil {
				g = &group{cols: cols}
				idx[sig] = g
				*list = append(*list, g)
			}
			g.rows = append(g.rows, row)
			g.ops = append(g.ops, o)
		}
		for _, k := range to.order {
			o := to.final[k]
			if o.kind == opDelete || (s.o.InsertMode == InsertModeInsert && to.deleted[k]) {
				add(delIdx, &dels, o.keyCols, "", o.key, o)
			}
			if o.kind == opUpsert {
				add(upIdx, &ups, o.cols, o.colSig, o.vals, o)
			}
		}
		for _, g := range dels {
			n, err := s.deleteRows(ctx, tx, t.q, g.cols, g.rows)
			if err != nil {
				return 0, err
			}
			total += n
		}
		for _, g := range ups {
			switch s.o.InsertMode {
			case InsertModeUpdate:
				for _, o := range g.ops {
					n, err := s.update(ctx, tx, o)
					if err != nil {
						return 0, err
					}
					total += n
				}
				continue
			case InsertModeUpsert:
				n, err := s.upsertRows(ctx, tx, t, g.cols, g.ops[0].keyCols, g.rows)
				if err != nil {
					return 0, err
				}
				total += n
			default:
				n, err := s.appendRows(ctx, tx, t, g.cols, g.rows)
				if err != nil {
					return 0, err
				}
				total += n
			}
		}
		// Keyless rows: appended in order, grouped by consecutive column lists.
		for i := 0; i < len(to.keyless); {
			j := i + 1
			sig := to.keyless[i].colSig
			for j < len(to.keyless) && to.keyless[j].colSig == sig {
				j++
			}
			rows := make([][]any, 0, j-i)
			for _, o := range to.keyless[i:j] {
				rows = append(rows, o.vals)
			}
			n, err := s.appendRows(ctx, tx, t, to.keyless[i].cols, rows)
			if err != nil {
				return 0, err
			}
			total += n
			i = j
		}
	}
	return total, nil
}
