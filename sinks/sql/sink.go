package sql

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-cdc/sluice/change"
)

// Insert modes.
const (
	InsertModeInsert = "insert"
	InsertModeUpsert = "upsert"
	InsertModeUpdate = "update"
)

// Primary key modes.
const (
	PrimaryKeyRecordKey   = "record_key"
	PrimaryKeyRecordValue = "record_value"
)

// OffsetsTable is the table holding the consumed offsets in the target.
const OffsetsTable = "sluice_offsets"

// Options configure a SQL sink.
type Options struct {
	// Name is the sink's name, the key of its rows in sluice_offsets.
	Name string
	// DSN is postgres://, postgresql://, mysql://user:pass@host:port/db or
	// sqlite:///path.db.
	DSN string
	// Table is the table name template: ${topic} (dots replaced by
	// underscores), ${source.table}, ${source.schema}, ${source.db}.
	// Empty means ${topic}.
	Table string
	// Schema is the target schema (PostgreSQL) or database (MySQL); empty
	// is the connection's. Ignored for SQLite.
	Schema string
	// InsertMode is insert, upsert (default) or update.
	InsertMode string
	// DeleteEnabled turns deletes and tombstones into DELETEs.
	DeleteEnabled bool
	// PrimaryKeyMode is record_key (default) or record_value.
	PrimaryKeyMode string
	// PrimaryKeyFields restricts the key to these fields (record_key) or
	// names the key fields of the value (record_value; empty: all fields).
	PrimaryKeyFields []string
	// AutoCreate creates missing tables; AutoEvolve adds missing columns.
	AutoCreate, AutoEvolve bool
	Logger                 *slog.Logger
}

// Record is one consumed Kafka record and its decoded event. A nil Event
// is not applied (it was rejected or is not for this sink) but its offset
// is still committed.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Event     *change.Event
	// Prepared is what Prepare returned for Event, when it was called.
	Prepared any
}

// Reject is called with the index of a record that cannot be applied and
// the reason. It returns nil to go on without the record (it was sent to a
// dead-letter topic) or the error that stops the batch.
type Reject func(i int, err error) error

// Sink writes batches of records into a SQL database.
type Sink struct {
	o        Options
	db       *stdsql.DB
	d        dialect
	log      *slog.Logger
	tables   map[tableID]*table
	topics   map[string]change.Source // last source block seen per topic (for tombstones)
	names    map[nameKey]string       // table names made from the template
	shapes   map[[2]*change.Schema]*shape
	shapesMu sync.Mutex // shapeOf runs in Prepare too
	// committed is the next offset per partition as last read from or
	// written to sluice_offsets.
	committed map[topicPartition]int64
	loaded    bool // committed was read

	rows   atomic.Int64 // statements' rows applied
	copied int          // rows written with COPY (tests)
	// copiedBinary counts the rows of copied written in binary (tests).
	copiedBinary int
	// canStage: the role may create temporary tables (PostgreSQL).
	canStage bool
	// stmts are prepared statements by text (SQLite; see exec).
	stmts stmtCache
}

type driverConnector = driver.Connector

type tableID struct{ schema, name string }

type table struct {
	id   tableID
	q    string          // quoted, qualified
	cols map[string]bool // folded column names
	// checked holds the (row, key) schemas whose columns all exist.
	checked map[[2]*change.Schema]bool
	// oids are the column types by name (PostgreSQL; see columnOIDs).
	oids map[string]uint32
}

// Validate checks the options that do not need the database.
func (o Options) Validate() error {
	if rest := templateVars.Replace(o.Table); strings.Contains(rest, "${") {
		return fmt.Errorf("sql sink: table template %q: unknown variable; use ${topic}, ${source.table}, ${source.schema} or ${source.db}", o.Table)
	}
	switch o.InsertMode {
	case "", InsertModeInsert, InsertModeUpsert, InsertModeUpdate:
	default:
		return fmt.Errorf("sql sink: insert_mode %q: want insert, upsert or update", o.InsertMode)
	}
	switch o.PrimaryKeyMode {
	case "", PrimaryKeyRecordKey, PrimaryKeyRecordValue:
	default:
		return fmt.Errorf("sql sink: primary_key.mode %q: want record_key or record_value", o.PrimaryKeyMode)
	}
	return nil
}

var templateVars = strings.NewReplacer("${topic}", "", "${source.table}", "", "${source.schema}", "", "${source.db}", "")

// Open connects to the target and creates the offsets table.
func Open(ctx context.Context, o Options) (*Sink, error) {
	if o.InsertMode == "" {
		o.InsertMode = InsertModeUpsert
	}
	if o.PrimaryKeyMode == "" {
		o.PrimaryKeyMode = PrimaryKeyRecordKey
	}
	if o.Table == "" {
		o.Table = "${topic}"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	scheme, _, ok := strings.Cut(o.DSN, "://")
	if !ok {
		return nil, errors.New("sql sink: DSN needs a scheme: postgres://, mysql:// or sqlite://")
	}
	s := &Sink{o: o, log: o.Logger, tables: map[tableID]*table{}, topics: map[string]change.Source{}, committed: map[topicPartition]int64{}}
	var err error
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		s.d = postgres{}
		s.db, err = stdsql.Open("pgx", o.DSN)
	case "mysql":
		s.d = mysqlDialect{}
		var c *mysql.Config
		if c, err = mysqlConfig(o.DSN); err == nil {
			var conn driverConnector
			if conn, err = mysql.NewConnector(c); err == nil {
				s.db = stdsql.OpenDB(conn)
			}
		}
	case "sqlite":
		s.d = sqliteDialect{}
		s.db, err = stdsql.Open("sqlite", sqliteDSN(o.DSN))
		if err == nil {
			s.db.SetMaxOpenConns(1)
		}
	default:
		return nil, fmt.Errorf("sql sink: unknown DSN scheme %q", scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("sql sink: open %s: %w", s.d.name(), err)
	}
	s.db.SetMaxIdleConns(2)
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("sql sink: connect to %s: %w", s.d.name(), err)
	}
	if err := s.createOffsetsTable(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if s.d.name() == "postgres" {
		// Upserts in bulk go through a temporary staging table.
		if err := s.db.QueryRowContext(ctx, "SELECT has_database_privilege(current_database(), 'TEMPORARY')").Scan(&s.canStage); err != nil {
			s.db.Close()
			return nil, fmt.Errorf("sql sink: check the TEMPORARY privilege: %w", err)
		}
	}
	return s, nil
}

// Close closes the prepared statements and the database connections.
func (s *Sink) Close() error {
	s.closeStmts()
	return s.db.Close()
}

// DB returns the connection pool (tests, tools).
func (s *Sink) DB() *stdsql.DB { return s.db }

// Rows returns how many rows were written or deleted since Open.
func (s *Sink) Rows() int64 { return s.rows.Load() }

func (s *Sink) offsetsID() tableID { return tableID{schema: s.o.Schema, name: OffsetsTable} }

func (s *Sink) createOffsetsTable(ctx context.Context) error {
	q := qualified(s.d, s.offsetsID())
	str := change.PrimitiveSchema(change.TypeString, false)
	ddl := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, %s %s NOT NULL, PRIMARY KEY (%s, %s, %s))",
		q,
		s.d.quote("sink"), s.d.columnType(str, true),
		s.d.quote("topic"), s.d.columnType(str, true),
		s.d.quote("partition"), s.d.columnType(change.PrimitiveSchema(change.TypeInt32, false), true),
		s.d.quote("next_offset"), s.d.columnType(change.PrimitiveSchema(change.TypeInt64, false), true),
		s.d.quote("sink"), s.d.quote("topic"), s.d.quote("partition"))
	if _, err := s.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("sql sink: create %s: %w", q, err)
	}
	return nil
}

// Positions returns the next offset to consume per topic and partition,
// as committed in the target's sluice_offsets table.
func (s *Sink) Positions(ctx context.Context) (map[string]map[int32]int64, error) {
	q := fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE %s = %s",
		s.d.quote("topic"), s.d.quote("partition"), s.d.quote("next_offset"),
		qualified(s.d, s.offsetsID()), s.d.quote("sink"), s.d.placeholder(1))
	rows, err := s.db.QueryContext(ctx, q, s.o.Name)
	if err != nil {
		return nil, fmt.Errorf("sql sink: read %s: %w", OffsetsTable, err)
	}
	defer rows.Close()
	out := map[string]map[int32]int64{}
	s.committed = map[topicPartition]int64{}
	for rows.Next() {
		var topic string
		var p int32
		var next int64
		if err := rows.Scan(&topic, &p, &next); err != nil {
			return nil, fmt.Errorf("sql sink: read %s: %w", OffsetsTable, err)
		}
		if out[topic] == nil {
			out[topic] = map[int32]int64{}
		}
		out[topic][p] = next
		s.committed[topicPartition{topic, p}] = next
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sql sink: read %s: %w", OffsetsTable, err)
	}
	s.loaded = true
	return out, nil
}

// RecordError is a record that could not be applied.
type RecordError struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("record %s/%d@%d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Write applies recs and commits them with their offsets in one database
// transaction. Records that cannot be applied are passed to reject. An
// error means nothing of the batch was committed.
func (s *Sink) Write(ctx context.Context, recs []Record, reject Reject) error {
	if len(recs) == 0 {
		return nil
	}
	if !s.loaded {
		if _, err := s.Positions(ctx); err != nil {
			return err
		}
	}
	ops := make([]op, len(recs))
	for i := range recs {
		o, err := s.plan(ctx, recs[i])
		if err != nil {
			var de dataError
			if !errors.As(err, &de) && !s.d.isDataError(err) {
				return err
			}
			if rerr := reject(i, &RecordError{recs[i].Topic, recs[i].Partition, recs[i].Offset, err}); rerr != nil {
				return rerr
			}
			continue
		}
		ops[i] = o
	}
	offsets := nextOffsets(recs)
	// Fast path: the whole batch, compacted, in multi-row statements.
	compacted := func(tx *txn) (int, error) { return s.applyCompacted(ctx, tx, ops) }
	n, err := s.commit(ctx, compacted, offsets)
	if be := (*binaryCopyError)(nil); errors.As(err, &be) {
		s.log.Debug("binary COPY failed; applying the batch again with the column types read again", "err", err)
		n, err = s.commit(ctx, compacted, offsets)
	}
	if err == nil {
		s.rows.Add(int64(n))
		return nil
	}
	if !s.d.isDataError(err) {
		return err
	}
	// Slow path: one record at a time, to find the ones that fail.
	s.log.Debug("batch failed; applying it record by record", "err", err)
	n, err = s.commit(ctx, func(tx *txn) (int, error) {
		total := 0
		for i := range ops {
			if ops[i].kind == opSkip {
				continue
			}
			if _, err := tx.ExecContext(ctx, "SAVEPOINT sluice_rec"); err != nil {
				return 0, err
			}
			n, err := s.applyOne(ctx, tx, &ops[i])
			if err != nil {
				if !s.d.isDataError(err) {
					return 0, err
				}
				if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT sluice_rec"); rerr != nil {
					return 0, rerr
				}
				if rerr := reject(i, &RecordError{recs[i].Topic, recs[i].Partition, recs[i].Offset, err}); rerr != nil {
					return 0, rerr
				}
				continue
			}
			total += n
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT sluice_rec"); err != nil {
				return 0, err
			}
		}
		return total, nil
	}, offsets)
	if err == nil {
		s.rows.Add(int64(n))
	}
	return err
}

type topicPartition struct {
	topic     string
	partition int32
}

func nextOffsets(recs []Record) map[topicPartition]int64 {
	out := map[topicPartition]int64{}
	for _, r := range recs {
		tp := topicPartition{r.Topic, r.Partition}
		if r.Offset+1 > out[tp] {
			out[tp] = r.Offset + 1
		}
	}
	return out
}

// txn is a batch's transaction and the connection it runs on (for what
// database/sql does not offer, such as PostgreSQL's COPY).
type txn struct {
	*stdsql.Tx
	conn *stdsql.Conn
	n    int // staging tables made in it
}

// commit runs apply and stores offsets in one transaction.
func (s *Sink) commit(ctx context.Context, apply func(*txn) (int, error), offsets map[topicPartition]int64) (int, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("sql sink: connect: %w", err)
	}
	defer conn.Close()
	stx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sql sink: begin: %w", err)
	}
	defer stx.Rollback() //nolint:errcheck // after Commit it is a no-op
	tx := &txn{Tx: stx, conn: conn}
	n, err := apply(tx)
	if err != nil {
		return 0, err
	}
	if err := s.storeOffsets(ctx, tx, offsets); err != nil {
		return 0, err
	}
	if err := stx.Commit(); err != nil {
		return 0, fmt.Errorf("sql sink: commit: %w", err)
	}
	for tp, next := range offsets {
		s.committed[tp] = next
	}
	return n, nil
}

// storeOffsets moves each partition's next offset from the value this
// sink last read or wrote to the batch's, and fails if another writer moved
// it in between (a second instance of the sink): the target's offsets table
// fences concurrent writers, so no change is applied twice.
func (s *Sink) storeOffsets(ctx context.Context, tx *txn, offsets map[topicPartition]int64) error {
	q := qualified(s.d, s.offsetsID())
	var fresh [][]any
	for tp, next := range offsets {
		old, ok := s.committed[tp]
		if !ok {
			fresh = append(fresh, []any{s.o.Name, tp.topic, int64(tp.partition), next})
			continue
		}
		upd := fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = %s AND %s = %s AND %s = %s AND %s = %s", q,
			s.d.quote("next_offset"), s.d.placeholder(1), s.d.quote("sink"), s.d.placeholder(2),
			s.d.quote("topic"), s.d.placeholder(3), s.d.quote("partition"), s.d.placeholder(4),
			s.d.quote("next_offset"), s.d.placeholder(5))
		res, err := tx.ExecContext(ctx, upd, next, s.o.Name, tp.topic, int64(tp.partition), old)
		if err != nil {
			return fmt.Errorf("sql sink: store offsets: %v", err) // not a record's fault: no %w
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("sql sink: %s: the next offset of %s/%d is no longer %d: another instance of sink %s wrote to this database; restarting from the stored offsets",
				OffsetsTable, tp.topic, tp.partition, old, s.o.Name)
		}
	}
	cols := []string{"sink", "topic", "partition", "next_offset"}
	if _, err := s.insertRows(ctx, tx, q, cols, fresh, ""); err != nil {
		return fmt.Errorf("sql sink: store offsets (another instance of sink %s may be writing to this database): %v", s.o.Name, err)
	}
	return nil
}

// columnList is cols quoted and separated by commas.
func (s *Sink) columnList(cols []string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.d.quote(c))
	}
	return b.String()
}

// insertRows writes rows in multi-row INSERT statements ending with suffix.
func (s *Sink) insertRows(ctx context.Context, tx *txn, table string, cols []string, rows [][]any, suffix string) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	per := max(1, min(1000, s.d.maxParams()/len(cols)))
	var head strings.Builder
	head.WriteString("INSERT INTO " + table + " (" + s.columnList(cols) + ") VALUES ")
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		var b strings.Builder
		b.WriteString(head.String())
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, r[j])
				b.WriteString(s.d.placeholder(len(args)))
			}
			b.WriteByte(')')
		}
		b.WriteString(suffix)
		if err := s.exec(ctx, tx, b.String(), len(chunk) == per, args); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// exec runs q in the transaction. On SQLite, a statement that recurs
// (reuse: a full chunk of a multi-row INSERT, the same text batch after
// batch) is prepared once on the connection and kept: SQLite's compiling
// a statement of thousands of parameters costs about as much as running
// it. (database/sql cannot keep it: the pool's one SQLite connection is
// the transaction's, and a statement prepared on a Conn is prepared again
// in each transaction.)
func (s *Sink) exec(ctx context.Context, tx *txn, q string, reuse bool, args []any) error {
	if _, ok := s.d.(sqliteDialect); !ok || !reuse {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	return tx.conn.Raw(func(dc any) error {
		cp, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		}
		if s.stmts.conn != dc {
			// A new connection: statements of the old one went with it.
			s.stmts = stmtCache{conn: dc, m: map[string]driver.Stmt{}}
		}
		st := s.stmts.m[q]
		if st == nil {
			if len(s.stmts.m) >= maxStmts {
				s.stmts.closeAll()
			}
			var err error
			if st, err = cp.PrepareContext(ctx, q); err != nil {
				return err
			}
			s.stmts.m[q] = st
		}
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			v, err := driver.DefaultParameterConverter.ConvertValue(a)
			if err != nil {
				return fmt.Errorf("argument %d: %w", i+1, err)
			}
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
		}
		se, ok := st.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("sql sink: %T cannot execute with a context", st)
		}
		_, err := se.ExecContext(ctx, nv)
		if err != nil {
			// A failed statement is prepared afresh next time.
			st.Close()
			delete(s.stmts.m, q)
		}
		return err
	})
}

// stmtCache holds the statements prepared on one driver connection
// (SQLite; see exec).
type stmtCache struct {
	conn any
	m    map[string]driver.Stmt
}

// maxStmts bounds the prepared statements kept.
const maxStmts = 32

func (c *stmtCache) closeAll() {
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// closeStmts closes the kept statements on their connection.
func (s *Sink) closeStmts() {
	if len(s.stmts.m) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.Raw(func(dc any) error {
		if dc == s.stmts.conn {
			s.stmts.closeAll()
		}
		return nil
	})
	s.stmts = stmtCache{}
}

// deleteRows deletes rows by key.
func (s *Sink) deleteRows(ctx context.Context, tx *txn, table string, keyCols []string, keys [][]any) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	per := max(1, min(1000, s.d.maxParams()/len(keyCols)))
	for start := 0; start < len(keys); start += per {
		chunk := keys[start:min(len(keys), start+per)]
		var b strings.Builder
		b.WriteString("DELETE FROM " + table + " WHERE ")
		args := make([]any, 0, len(chunk)*len(keyCols))
		if len(keyCols) == 1 {
			b.WriteString(s.d.quote(keyCols[0]) + " IN (")
			for i, k := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				args = append(args, k[0])
				b.WriteString(s.d.placeholder(len(args)))
			}
			b.WriteByte(')')
		} else {
			for i, k := range chunk {
				if i > 0 {
					b.WriteString(" OR ")
				}
				b.WriteByte('(')
				for j, c := range keyCols {
					if j > 0 {
						b.WriteString(" AND ")
					}
					args = append(args, k[j])
					b.WriteString(s.d.quote(c) + " = " + s.d.placeholder(len(args)))
				}
				b.WriteByte(')')
			}
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// update updates one row by key.
func (s *Sink) update(ctx context.Context, tx *txn, o *op) (int, error) {
	var b strings.Builder
	b.WriteString("UPDATE " + o.t.q + " SET ")
	var args []any
	n := 0
	for i, c := range o.cols {
		if contains(o.keyCols, c) {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		args = append(args, o.vals[i])
		b.WriteString(s.d.quote(c) + " = " + s.d.placeholder(len(args)))
	}
	if n == 0 {
		return 0, nil
	}
	b.WriteString(" WHERE ")
	for j, c := range o.keyCols {
		if j > 0 {
			b.WriteString(" AND ")
		}
		args = append(args, o.key[j])
		b.WriteString(s.d.quote(c) + " = " + s.d.placeholder(len(args)))
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return 0, err
	}
	return 1, nil
}
