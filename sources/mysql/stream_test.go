package mysql

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/offsets"
)

// fakeEmitter records what the stream state machine hands to Kafka.
type fakeEmitter struct {
	events  []change.Event
	commits []*offsets.MySQL
}

func (f *fakeEmitter) Emit(_ context.Context, evs []change.Event) error {
	f.events = append(f.events, evs...)
	return nil
}
func (f *fakeEmitter) Heartbeat(context.Context, string, int64) error { return nil }
func (f *fakeEmitter) Commit(_ context.Context, b []byte) error {
	o, err := offsets.UnmarshalMySQL(b)
	if err != nil {
		return err
	}
	f.commits = append(f.commits, o)
	return nil
}

const testUUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

func newTestStreamer(t *testing.T, flavor string, gtids string, resumeRows int64) (*streamer, *fakeEmitter) {
	t.Helper()
	s, err := New(Options{Name: "t", DSN: "mysql://root@127.0.0.1:3306", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Decoder: DecoderOptions{TopicPrefix: "p", Tombstones: true}})
	if err != nil {
		t.Fatal(err)
	}
	s.o.MaxBatchWait = 0 // commit at every transaction end
	dec := NewDecoder(s.o.Decoder)
	if err := dec.SetTable(testTable()); err != nil {
		t.Fatal(err)
	}
	g, err := gomysql.ParseGTIDSet(flavor, gtids)
	if err != nil {
		t.Fatal(err)
	}
	em := &fakeEmitter{}
	st := &streamer{s: s, si: serverInfo{flavor: flavor, gtid: true}, dec: dec, em: em, gset: g, file: "bin.000001",
		resumeRows: resumeRows, first: true, off: offsets.MySQL{File: "bin.000001", Pos: 100, GTIDs: gtids}}
	return st, em
}

func hdr(t replication.EventType, pos, size uint32) *replication.EventHeader {
	return &replication.EventHeader{EventType: t, LogPos: pos + size, EventSize: size, ServerID: 7, Timestamp: 1700000000}
}

func uuidBytes(t *testing.T) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(testUUID, "-", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mysqlTxn is a MySQL 8 transaction as the binlog carries it: GTID, BEGIN,
// table map + rows (two inserts), XID.
func mysqlTxn(t *testing.T, st *streamer) error {
	for _, ev := range mysqlTxnEvents(t) {
		if err := st.handle(context.Background(), ev); err != nil {
			return err
		}
	}
	return nil
}

func mysqlTxnEvents(t *testing.T) []*replication.BinlogEvent {
	return []*replication.BinlogEvent{
		{Header: hdr(replication.GTID_EVENT, 100, 50), Event: &replication.GTIDEvent{SID: uuidBytes(t), GNO: 6}},
		{Header: hdr(replication.QUERY_EVENT, 150, 50), Event: &replication.QueryEvent{Query: []byte("BEGIN"), SlaveProxyID: 42}},
		{Header: hdr(replication.WRITE_ROWS_EVENTv2, 200, 100), Event: &replication.RowsEvent{
			Table: &replication.TableMapEvent{Schema: []byte("shop"), Table: []byte("items")},
			Rows:  [][]any{{int64(1), "a"}, {int64(2), "b"}},
		}},
		{Header: hdr(replication.XID_EVENT, 300, 31), Event: &replication.XIDEvent{}},
	}
}

func TestStreamMySQLFlavorOffsets(t *testing.T) {
	st, em := newTestStreamer(t, gomysql.MySQLFlavor, testUUID+":1-5", 0)
	if err := mysqlTxn(t, st); err != nil {
		t.Fatal(err)
	}
	if len(em.events) != 2 {
		t.Fatalf("events: %d", len(em.events))
	}
	src := em.events[1].Source
	if src.GTID != testUUID+":6" || src.File != "bin.000001" || src.Pos != 200 || src.Row != 1 || src.Thread != 42 || src.ServerID != 7 || src.TsUs != 1700000000_000000 {
		t.Errorf("source: %+v", src)
	}
	if len(em.commits) != 1 {
		t.Fatalf("commits: %d", len(em.commits))
	}
	if o := em.commits[0]; o.File != "bin.000001" || o.Pos != 331 || o.GTIDs != testUUID+":1-6" || o.Rows != 0 {
		t.Errorf("offset after the transaction: %+v", o)
	}
}

// TestStreamLoop runs the event loop on a streamer fed like the binlog
// reader feeds it: the events read ahead are handled in one go, and a
// stream that then stays silent (not even a heartbeat) is taken for dead.
func TestStreamLoop(t *testing.T) {
	st, em := newTestStreamer(t, gomysql.MySQLFlavor, testUUID+":1-5", 0)
	st.deadAfter = 300 * time.Millisecond
	q := newEventQueue(queueMaxEvents, queueMaxBytes)
	for _, ev := range mysqlTxnEvents(t) {
		if err := q.HandleEvent(ev); err != nil {
			t.Fatal(err)
		}
	}
	st.lastEvent = time.Now()
	err := st.loop(context.Background(), q)
	if !errors.Is(err, errDeadStream) {
		t.Fatalf("loop on a silent stream: %v", err)
	}
	if len(em.events) != 2 || len(em.commits) != 1 || em.commits[0].GTIDs != testUUID+":1-6" {
		t.Fatalf("events %d, commits %+v", len(em.events), em.commits)
	}
	// A cancelled context ends the loop with the cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.loop(ctx, q); !errors.Is(err, context.Canceled) {
		t.Fatalf("loop after cancel: %v", err)
	}
	// The reader's error ends the loop once the events before it are
	// handled.
	st, em = newTestStreamer(t, gomysql.MySQLFlavor, testUUID+":1-5", 0)
	q = newEventQueue(queueMaxEvents, queueMaxBytes)
	for _, ev := range mysqlTxnEvents(t) {
		if err := q.HandleEvent(ev); err != nil {
			t.Fatal(err)
		}
	}
	lost := errors.New("connection lost")
	q.fail(lost)
	if err := st.loop(context.Background(), q); !errors.Is(err, lost) {
		t.Fatalf("loop after the reader failed: %v", err)
	}
	if len(em.events) != 2 {
		t.Fatalf("events before the error: %d", len(em.events))
	}
}

// TestEventQueueBounds checks that the reader waits while the queue holds
// maxEvents events or maxBytes bytes (but always queues one event, however
// large), resumes once the events are taken, and gives up when the queue is
// closed.
func TestEventQueueBounds(t *testing.T) {
	ev := func(size uint32) *replication.BinlogEvent {
		return &replication.BinlogEvent{Header: &replication.EventHeader{EventSize: size}, Event: &replication.XIDEvent{}}
	}
	for _, c := range []struct {
		name   string
		sizes  []uint32
		queued int // events queued before the reader waits
	}{
		{"count", []uint32{10, 10, 10, 10}, 3},
		{"bytes", []uint32{40, 50, 20, 10}, 2},
		{"one large event", []uint32{500, 10}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := newEventQueue(3, 100)
			done := make(chan error, len(c.sizes))
			go func() {
				for _, sz := range c.sizes {
					done <- q.HandleEvent(ev(sz))
				}
			}()
			for i := 0; i < c.queued; i++ {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-done:
				t.Fatalf("event %d queued beyond the bounds (%v)", c.queued+1, err)
			case <-time.After(50 * time.Millisecond):
			}
			evs, err := q.take(nil)
			if err != nil || len(evs) != c.queued {
				t.Fatalf("took %d events (%v), want %d", len(evs), err, c.queued)
			}
			if err := <-done; err != nil { // room again
				t.Fatal(err)
			}
			q.close()
		})
	}
	q := newEventQueue(1, 100)
	if err := q.HandleEvent(ev(10)); err != nil {
		t.Fatal(err)
	}
	q.close()
	if err := q.HandleEvent(ev(10)); !errors.Is(err, errQueueClosed) {
		t.Fatalf("full and closed: %v", err)
	}
}

func TestStreamResumeSkipsWrittenRows(t *testing.T) {
	// The first row of the transaction was written before a restart.
	st, em := newTestStreamer(t, gomysql.MySQLFlavor, testUUID+":1-5", 1)
	if err := mysqlTxn(t, st); err != nil {
		t.Fatal(err)
	}
	if len(em.events) != 1 || em.events[0].After.Values[0] != int64(2) {
		t.Fatalf("events after resume: %+v", em.events)
	}
	// A split inside the transaction stores its start and the rows written.
	st, em = newTestStreamer(t, gomysql.MySQLFlavor, testUUID+":1-5", 0)
	st.s.o.MaxBatchSize = 0 // 8*0: commit after every rows event
	if err := mysqlTxn(t, st); err != nil {
		t.Fatal(err)
	}
	if len(em.commits) != 1 || !st.dirty {
		t.Fatalf("commits: %d, dirty %v", len(em.commits), st.dirty)
	}
	if o := em.commits[0]; o.Pos != 100 || o.GTIDs != testUUID+":1-5" || o.Rows != 2 {
		t.Errorf("offset inside the transaction: %+v", o)
	}
	// The position after the transaction waits for the next commit (its
	// GTID part is formatted when it is written).
	st.syncGTIDs()
	if st.off.Pos != 331 || st.off.Rows != 0 || st.off.GTIDs != testUUID+":1-6" {
		t.Errorf("pending offset: %+v", st.off)
	}
}

func TestStreamMariaDBDDL(t *testing.T) {
	st, em := newTestStreamer(t, gomysql.MariaDBFlavor, "0-1-5", 0)
	ctx := context.Background()
	evs := []*replication.BinlogEvent{
		{Header: hdr(replication.MARIADB_GTID_EVENT, 100, 40), Event: &replication.MariadbGTIDEvent{
			GTID: gomysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 6}, Flags: replication.BINLOG_MARIADB_FL_STANDALONE}},
		{Header: hdr(replication.QUERY_EVENT, 140, 80), Event: &replication.QueryEvent{Schema: []byte("shop"),
			Query: []byte("ALTER TABLE items ADD COLUMN qty INT NOT NULL")}},
		{Header: hdr(replication.MARIADB_GTID_EVENT, 220, 40), Event: &replication.MariadbGTIDEvent{
			GTID: gomysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 7}}},
		{Header: hdr(replication.WRITE_ROWS_EVENTv1, 260, 60), Event: &replication.RowsEvent{
			Table: &replication.TableMapEvent{Schema: []byte("shop"), Table: []byte("items")},
			Rows:  [][]any{{int64(3), "c", int32(9)}},
		}},
		{Header: hdr(replication.XID_EVENT, 320, 31), Event: &replication.XIDEvent{}},
	}
	for _, ev := range evs {
		if err := st.handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(em.events) != 2 || em.events[0].SchemaChange == nil || em.events[1].Op != change.OpCreate {
		t.Fatalf("events: %+v", em.events)
	}
	if sc := em.events[0].SchemaChange; sc.DDL == "" || len(sc.TableChanges) != 1 || len(sc.TableChanges[0].Table.Columns) != 3 {
		t.Errorf("schema change: %+v", sc)
	}
	if v := em.events[1].After.Values; len(v) != 3 || v[2] != int32(9) || em.events[1].Source.GTID != "0-1-7" {
		t.Errorf("row after the DDL: %v %+v", v, em.events[1].Source)
	}
	if o := em.commits[len(em.commits)-1]; o.Pos != 351 || o.GTIDs != "0-1-7" {
		t.Errorf("offset: %+v", o)
	}
}

func TestStreamUnparsableDDL(t *testing.T) {
	ddl := &replication.BinlogEvent{Header: hdr(replication.QUERY_EVENT, 140, 80), Event: &replication.QueryEvent{Schema: []byte("shop"),
		Query: []byte("ALTER TABLE items FROBNICATE COLUMN x")}}
	st, _ := newTestStreamer(t, gomysql.MariaDBFlavor, "0-1-5", 0)
	err := st.handle(context.Background(), ddl)
	if err == nil || !strings.Contains(err.Error(), "FROBNICATE") {
		t.Fatalf("want an error naming the statement, got %v", err)
	}
	st, em := newTestStreamer(t, gomysql.MariaDBFlavor, "0-1-5", 0)
	st.s.o.SkipUnparsableDDL = true
	if err := st.handle(context.Background(), ddl); err != nil {
		t.Fatal(err)
	}
	if len(em.events) != 0 {
		t.Errorf("events: %+v", em.events)
	}
}

func TestStreamTransactionBlocks(t *testing.T) {
	for _, resume := range []int64{0, 1} {
		st, em := newTestStreamer(t, gomysql.MySQLFlavor, testUUID+":1-5", resume)
		st.s.o.Decoder.TransactionMetadata = true
		st.dec = NewDecoder(st.s.o.Decoder)
		if err := st.dec.SetTable(testTable()); err != nil {
			t.Fatal(err)
		}
		if err := mysqlTxn(t, st); err != nil {
			t.Fatal(err)
		}
		last := em.events[len(em.events)-1]
		if tx := last.Transaction; tx == nil || tx.ID != testUUID+":6" || tx.TotalOrder != 2 || tx.DataCollectionOrder != 2 {
			t.Errorf("resume %d: transaction block %+v", resume, last.Transaction)
		}
	}
}

func TestStreamDDLSkippedOnReplay(t *testing.T) {
	// The DDL's event (and its history) was written with offset Rows=1.
	st, em := newTestStreamer(t, gomysql.MariaDBFlavor, "0-1-5", 1)
	evs := []*replication.BinlogEvent{
		{Header: hdr(replication.MARIADB_GTID_EVENT, 100, 40), Event: &replication.MariadbGTIDEvent{
			GTID: gomysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 6}, Flags: replication.BINLOG_MARIADB_FL_STANDALONE}},
		{Header: hdr(replication.QUERY_EVENT, 140, 80), Event: &replication.QueryEvent{Schema: []byte("shop"),
			Query: []byte("ALTER TABLE items ADD COLUMN qty INT NOT NULL")}},
	}
	for _, ev := range evs {
		if err := st.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(em.events) != 0 {
		t.Errorf("replayed DDL emitted %d events", len(em.events))
	}
	if tb, _ := st.dec.Table("shop", "items"); len(tb.Columns) != 2 {
		t.Errorf("replayed DDL applied again: %+v", tb.Columns)
	}
	if st.off.Pos != 220 || st.off.Rows != 0 {
		t.Errorf("offset after the DDL: %+v", st.off)
	}
}

// TestCaptured checks the table filters, asked twice (the second answer
// comes from the cache).
func TestCaptured(t *testing.T) {
	s, err := New(Options{Name: "t", DSN: "mysql://root@127.0.0.1:3306", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Include: []string{`shop\..*`}, Exclude: []string{`shop\.audit_.*`}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for _, c := range []struct {
			db, table string
			want      bool
		}{{"shop", "items", true}, {"shop", "audit_log", false}, {"other", "items", false}, {"mysql", "user", false}} {
			if got := s.captured(c.db, c.table); got != c.want {
				t.Errorf("captured(%s, %s) = %v", c.db, c.table, got)
			}
		}
	}
}

func TestMariaGTIDString(t *testing.T) {
	for _, g := range []gomysql.MariadbGTID{{}, {DomainID: 0, ServerID: 1, SequenceNumber: 10}, {DomainID: 4294967295, ServerID: 4294967295, SequenceNumber: 18446744073709551615}} {
		if got, want := mariaGTIDString(&g), g.String(); got != want {
			t.Errorf("%+v: %q, want %q", g, got, want)
		}
	}
}
