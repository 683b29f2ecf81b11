package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestPostgresTypes writes one row of every mapped type and checks the
// event values against Debezium's mapping, once through the snapshot
// (cursor, text format) and once through pgoutput streaming: both paths
// must produce the same record, value for value.
func TestPostgresTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.Exec(ctx, "postgres", `
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE types (
			id int PRIMARY KEY,
			c_int2 smallint, c_int8 bigint, c_bool boolean,
			c_num numeric(10,3), c_num_var numeric, c_real real, c_double double precision,
			c_text text, c_varchar varchar(20), c_char char(3), c_bytea bytea,
			c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz, c_interval interval,
			c_uuid uuid, c_json json, c_jsonb jsonb, c_mood mood, c_ints int[], c_texts text[],
			c_inet inet, c_cidr cidr, c_money money
		);
		ALTER TABLE types REPLICA IDENTITY FULL;`))
	const row = `(%d, -32768, 9223372036854775807, true,
			1234.567, 3.14159265358979, 1.5, -2.25,
			'héllo "world"', 'varchar', 'ab', '\x00ff10',
			'2024-02-29', '13:14:15.123456', '13:14:15+02', '2024-02-29 13:14:15.5', '2024-02-29 13:14:15.25+01', '1 year 2 mons 3 days 04:05:06.5',
			'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}', 'happy', '{1,NULL,3}', '{"x y",z}',
			'192.168.0.1', '10.0.0.0/8', 12.34)`
	must(t, pg.Exec(ctx, "postgres", "INSERT INTO types VALUES "+fmt.Sprintf(row, 1)))

	d := runDaemon(t, pgSourceYAML("types", pg.DSN("postgres"), "tables: [public.types]"))
	c := newConsumer(t, d.Brokers(), "types.public.types")
	snap := c.next(1, time.Minute)[0]
	waitStatus(t, d, "types", time.Minute, streaming)
	must(t, pg.Exec(ctx, "postgres", "INSERT INTO types VALUES "+fmt.Sprintf(row, 2)))
	str := c.next(1, time.Minute)[0]

	want := map[string]any{
		"c_int2":     -32768,
		"c_int8":     json.Number("9223372036854775807"),
		"c_bool":     true,
		"c_num":      "EtaH",                                               // 1234567 = 0x12d687 unscaled, scale 3 (Decimal, base64)
		"c_num_var":  map[string]any{"scale": 14, "value": "AR2552okgw=="}, // 314159265358979 = 0x011db9e76a2483,
		"c_real":     1.5,
		"c_double":   -2.25,
		"c_text":     `héllo "world"`,
		"c_varchar":  "varchar",
		"c_char":     "ab ",
		"c_bytea":    "AP8Q",
		"c_date":     19782,       // days since the epoch
		"c_time":     47655123456, // µs since midnight (MicroTime)
		"c_timetz":   "11:14:15Z",
		"c_ts":       1709212455500000,              // µs since the epoch (MicroTimestamp)
		"c_tstz":     "2024-02-29T12:14:15.250000Z", // ZonedTimestamp, the column's 6 fractional digits
		"c_interval": json.Number("37091106500000"), // MicroDuration: 1y2m = 14*30.4375 days
		"c_uuid":     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
		"c_json":     `{"a": [1, 2]}`,
		"c_jsonb":    `{"b": {"c": null}}`,
		"c_mood":     "happy",
		"c_ints":     []any{1, nil, 3},
		"c_texts":    []any{"x y", "z"},
		"c_inet":     "192.168.0.1",
		"c_cidr":     "10.0.0.0/8",
		"c_money":    "BNI=", // 1234 unscaled, scale 2
	}
	for _, r := range []record{snap, str} {
		after, _ := r.Value["after"].(map[string]any)
		for col, w := range want {
			if !jsonEq(after[col], w) {
				t.Errorf("%s event: %s = %v, want %v", r.op(), col, normalize(after[col]), normalize(w))
			}
		}
	}
	// Snapshot and stream agree on every column (id aside), and on the schema.
	sa, _ := snap.Value["after"].(map[string]any)
	ta, _ := str.Value["after"].(map[string]any)
	for col := range sa {
		if col != "id" && !jsonEq(sa[col], ta[col]) {
			t.Errorf("column %s: snapshot %v, stream %v", col, normalize(sa[col]), normalize(ta[col]))
		}
	}
	if len(sa) != len(ta) {
		t.Errorf("snapshot has %d columns, stream %d", len(sa), len(ta))
	}
	var ss, ts map[string]any
	must(t, json.Unmarshal(snap.RawValue, &ss))
	must(t, json.Unmarshal(str.RawValue, &ts))
	if !jsonEq(ss["schema"], ts["schema"]) {
		t.Errorf("snapshot and stream value schemas differ:\n%v\n%v", ss["schema"], ts["schema"])
	}
}
