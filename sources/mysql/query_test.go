package mysql

import (
	"context"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

func itemsRows(typ replication.EventType, pos uint32, rows ...[]any) *replication.BinlogEvent {
	return &replication.BinlogEvent{Header: hdr(typ, pos, 100), Event: &replication.RowsEvent{
		Table: &replication.TableMapEvent{Schema: []byte("shop"), Table: []byte("items")},
		Rows:  rows,
	}}
}

// TestIncludeQueryMySQL: a MySQL transaction with ROWS_QUERY events
// (binlog_rows_query_log_events=ON) before each statement's rows events.
func TestIncludeQueryMySQL(t *testing.T) {
	for _, include := range []bool{true, false} {
		st, em := newTestStreamer(t, gomysql.MySQLFlavor, testUUID+":1-5", 0)
		st.s.o.IncludeQuery = include
		ctx := context.Background()
		evs := []*replication.BinlogEvent{
			{Header: hdr(replication.GTID_EVENT, 100, 50), Event: &replication.GTIDEvent{SID: uuidBytes(t), GNO: 6}},
			{Header: hdr(replication.QUERY_EVENT, 150, 50), Event: &replication.QueryEvent{Query: []byte("BEGIN")}},
			{Header: hdr(replication.ROWS_QUERY_EVENT, 200, 60), Event: &replication.RowsQueryEvent{Query: []byte("INSERT INTO items VALUES (1,'a'),(2,'b')")}},
			itemsRows(replication.WRITE_ROWS_EVENTv2, 260, []any{int64(1), "a"}),
			itemsRows(replication.WRITE_ROWS_EVENTv2, 360, []any{int64(2), "b"}), // same statement, second rows event
			{Header: hdr(replication.ROWS_QUERY_EVENT, 460, 60), Event: &replication.RowsQueryEvent{Query: []byte("UPDATE items SET name='c' WHERE id=1")}},
			itemsRows(replication.UPDATE_ROWS_EVENTv2, 520, []any{int64(1), "a"}, []any{int64(1), "c"}),
			{Header: hdr(replication.XID_EVENT, 620, 31), Event: &replication.XIDEvent{}},
			// The next transaction has no ROWS_QUERY event: no query.
			{Header: hdr(replication.GTID_EVENT, 651, 50), Event: &replication.GTIDEvent{SID: uuidBytes(t), GNO: 7}},
			{Header: hdr(replication.QUERY_EVENT, 701, 50), Event: &replication.QueryEvent{Query: []byte("BEGIN")}},
			itemsRows(replication.WRITE_ROWS_EVENTv2, 751, []any{int64(3), "d"}),
			{Header: hdr(replication.XID_EVENT, 851, 31), Event: &replication.XIDEvent{}},
		}
		for _, ev := range evs {
			if err := st.handle(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"INSERT INTO items VALUES (1,'a'),(2,'b')", "INSERT INTO items VALUES (1,'a'),(2,'b')", "UPDATE items SET name='c' WHERE id=1", ""}
		if !include {
			want = []string{"", "", "", ""}
		}
		if len(em.events) != len(want) {
			t.Fatalf("include=%v: %d events, want %d", include, len(em.events), len(want))
		}
		for i, w := range want {
			if q := em.events[i].Source.Query; q != w {
				t.Errorf("include=%v: event %d query %q, want %q", include, i, q, w)
			}
		}
		if len(em.commits) != 2 || em.commits[1].Pos != 882 {
			t.Errorf("include=%v: commits %+v", include, em.commits)
		}
	}
}

// TestIncludeQueryMariaDB: MariaDB's ANNOTATE_ROWS event (GTID event,
// annotate, table map, rows, XID), as the server sends it with
// binlog_annotate_row_events=ON and BINLOG_SEND_ANNOTATE_ROWS_EVENT.
func TestIncludeQueryMariaDB(t *testing.T) {
	st, em := newTestStreamer(t, gomysql.MariaDBFlavor, "0-1-5", 0)
	st.s.o.IncludeQuery = true
	ctx := context.Background()
	evs := []*replication.BinlogEvent{
		{Header: hdr(replication.MARIADB_GTID_EVENT, 100, 38), Event: &replication.MariadbGTIDEvent{GTID: gomysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 6}}},
		{Header: hdr(replication.MARIADB_ANNOTATE_ROWS_EVENT, 138, 62), Event: &replication.MariadbAnnotateRowsEvent{Query: []byte("DELETE FROM items WHERE id = 1")}},
		itemsRows(replication.DELETE_ROWS_EVENTv1, 200, []any{int64(1), "a"}),
		{Header: hdr(replication.XID_EVENT, 300, 31), Event: &replication.XIDEvent{}},
	}
	for _, ev := range evs {
		if err := st.handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(em.events) == 0 {
		t.Fatal("no events")
	}
	for i, e := range em.events {
		if e.Tombstone {
			continue
		}
		if e.Source.Query != "DELETE FROM items WHERE id = 1" || e.Source.GTID != "0-1-6" {
			t.Errorf("event %d source: %+v", i, e.Source)
		}
	}
}
