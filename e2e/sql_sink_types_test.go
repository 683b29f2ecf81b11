package e2e

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestSQLSinkTypes replicates one row of every type the Postgres source
// maps (through the snapshot, through streaming, and all NULL) into
// PostgreSQL, MariaDB and SQLite targets created by auto_create, and reads
// every column back as text. Values are exact: numerics to the last digit,
// timestamps to the microsecond, zoned values as the same instant in UTC,
// unicode, binary and JSON unchanged. Where a target has no such type the
// expectation says what it stores instead.
func TestSQLSinkTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := harness.StartPostgres(t)
	must(t, pg.CreateDatabase(ctx, "src"))
	must(t, pg.Exec(ctx, "src", `
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE TABLE types (
			id int PRIMARY KEY,
			c_int2 smallint, c_int8 bigint, c_bool boolean,
			c_num numeric(10,3), c_num_var numeric, c_real real, c_double double precision,
			c_text text, c_varchar varchar(20), c_char char(3), c_bytea bytea,
			c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz, c_interval interval,
			c_uuid uuid, c_json json, c_jsonb jsonb, c_mood mood, c_ints int[], c_texts text[],
			c_inet inet, c_cidr cidr, c_money money
		)`))
	const row = `(%d, -32768, 9223372036854775807, true,
			1234.567, -3.14159265358979000001, 1.5, -2.25,
			'héllo "wörld" ✓ 日本', 'varchar', 'ab', '\x00ff10',
			'2024-02-29', '13:14:15.123456', '13:14:15+02', '2024-02-29 13:14:15.5', '2024-02-29 13:14:15.25+01', '1 day 04:05:06.5',
			'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}', 'happy', '{1,NULL,3}', '{"x y",z}',
			'192.168.0.1', '10.0.0.0/8', 12.34)`
	must(t, pg.Exec(ctx, "src", "INSERT INTO types VALUES "+fmt.Sprintf(row, 1)))
	targets := openTargets(t, ctx, pg)
	yaml := pgSourceYAML("src", pg.DSN("src"), "tables: [public.types]") + "sinks:\n"
	for _, tg := range targets {
		yaml += fmt.Sprintf("  - {name: types-%s, type: sql, topics: [src.public.types], dsn: %q, table: \"${source.table}\"}\n", tg.name, tg.dsn)
	}
	d := runDaemon(t, yaml)
	waitStatus(t, d, "src", time.Minute, streaming)
	must(t, pg.Exec(ctx, "src", "INSERT INTO types VALUES "+fmt.Sprintf(row, 2)))
	must(t, pg.Exec(ctx, "src", "INSERT INTO types (id) VALUES (3)"))

	common := map[string]string{
		"c_int2": "-32768", "c_int8": "9223372036854775807", "c_num": "1234.567", "c_num_var": "-3.14159265358979000001",
		"c_real": "1.5", "c_double": "-2.25", "c_text": `héllo "wörld" ✓ 日本`, "c_varchar": "varchar", "c_char": "ab ",
		"c_date": "2024-02-29", "c_time": "13:14:15.123456", "c_timetz": "11:14:15Z", "c_ts": "2024-02-29 13:14:15.5",
		"c_tstz": "2024-02-29T12:14:15.25Z", "c_interval": "101106500000", // MicroDuration: µs (1 day = 24 h)
		"c_uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "c_json": `{"a": [1, 2]}`, "c_jsonb": `{"b": {"c": null}}`,
		"c_mood": "happy", "c_ints": "[1,null,3]", "c_texts": `["x y","z"]`, "c_inet": "192.168.0.1", "c_cidr": "10.0.0.0/8",
		"c_money": "12.34", "c_bool": "1", "c_bytea": "00ff10",
	}
	want := map[string]map[string]string{
		"postgres": {"c_bool": "true", "c_timetz": "11:14:15+00", "c_tstz": "2024-02-29 12:14:15.25+00",
			"c_interval": "28:05:06.5", "c_ints": "[1, null, 3]", "c_texts": `["x y", "z"]`, "c_bytea": `\x00ff10`},
		"mariadb": {"c_num_var": "-3.141592653589790000010000000000", "c_ts": "2024-02-29 13:14:15.500000",
			"c_tstz": "2024-02-29 12:14:15.250000", "c_bytea": "00FF10"},
		"sqlite": {},
	}
	checkTypeRows(t, ctx, d, targets, common, want, map[string]bool{"c_bytea": true}, "c_int2")
}

// checkTypeRows reads every column of rows 1 and 2 (all types) and 3 (all
// NULL) of table types back from each target as text and compares them
// with want[target][col], else common[col]; bin columns are read as hex.
func checkTypeRows(t *testing.T, ctx context.Context, d *daemon.Daemon, targets []*sqlTarget, common map[string]string, want map[string]map[string]string, bin map[string]bool, probe string) {
	t.Helper()
	var cols []string
	for c := range common {
		cols = append(cols, c)
	}
	for _, tg := range targets {
		read := func(id int, col string) (string, error) {
			var q string
			switch tg.name {
			case "postgres":
				q = fmt.Sprintf(`SELECT "%s"::text FROM types WHERE id = %d`, col, id)
			case "mariadb":
				q = fmt.Sprintf("SELECT CAST(`%s` AS CHAR) FROM types WHERE id = %d", col, id)
				if bin[col] {
					q = fmt.Sprintf("SELECT HEX(`%s`) FROM types WHERE id = %d", col, id)
				}
			default:
				q = fmt.Sprintf(`SELECT CAST("%s" AS TEXT) FROM types WHERE id = %d`, col, id)
				if bin[col] {
					q = fmt.Sprintf(`SELECT CASE WHEN "%[1]s" IS NULL THEN NULL ELSE lower(hex("%[1]s")) END FROM types WHERE id = %d`, col, id)
				}
			}
			var v stdsql.NullString
			err := tg.db.QueryRowContext(ctx, q).Scan(&v)
			if !v.Valid {
				return "<null>", err
			}
			return v.String, err
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			_, err := read(3, probe)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				st, _ := d.Supervisor().Status("types-" + tg.name)
				t.Fatalf("%s: rows did not arrive: %v; status %+v", tg.name, err, st)
			}
		}
		var bad []string
		for _, col := range cols {
			w, ok := want[tg.name][col]
			if !ok {
				w = common[col]
			}
			for id, wv := range map[int]string{1: w, 2: w, 3: "<null>"} {
				got, err := read(id, col)
				if err != nil || got != wv {
					bad = append(bad, fmt.Sprintf("row %d %s = %q (%v), want %q", id, col, got, err, wv))
				}
			}
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			t.Errorf("%s:\n%s", tg.name, strings.Join(bad, "\n"))
		}
	}
}

// TestSQLSinkMySQLTypes replicates one row of every MySQL type the MySQL
// source maps (snapshot, streaming, all NULL) from MariaDB into PostgreSQL,
// MariaDB and SQLite targets created by auto_create, and reads every column
// back as text, exactly. Where a target has no such type the expectation
// says what it stores instead.
func TestSQLSinkMySQLTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := harness.StartMariaDB(t)
	must(t, src.Exec(ctx, `CREATE DATABASE src; USE src;
		CREATE TABLE types (
			id INT PRIMARY KEY,
			c_tiny TINYINT, c_utiny TINYINT UNSIGNED, c_small SMALLINT, c_usmall SMALLINT UNSIGNED,
			c_medium MEDIUMINT, c_int INT, c_uint INT UNSIGNED, c_big BIGINT, c_ubig BIGINT UNSIGNED,
			c_dec DECIMAL(20,6), c_float FLOAT, c_double DOUBLE, c_bit1 BIT(1), c_bit10 BIT(10),
			c_date DATE, c_dt DATETIME(6), c_dt0 DATETIME, c_ts TIMESTAMP(3) NULL, c_time TIME(6), c_year YEAR,
			c_char CHAR(3), c_varchar VARCHAR(40) CHARACTER SET utf8mb4, c_latin1 VARCHAR(10) CHARACTER SET latin1,
			c_text TEXT, c_blob BLOB, c_varbin VARBINARY(8),
			c_enum ENUM('small','medium','large'), c_set SET('a','b','c'), c_json JSON
		)`))
	const row = `(%d, -128, 255, -32768, 65535, -8388608, -2147483648, 4294967295, -9223372036854775808, 9223372036854775807,
			-12345678901234.123456, 1.5, -2.25, b'1', b'1000000001',
			'2024-02-29', '2024-02-29 13:14:15.123456', '1999-12-31 23:59:59', '2024-02-29 13:14:15.250', '13:14:15.000001', 2024,
			'ab', 'héllo "wörld" ✓ 日本 🎉', 'café', 'long text ✓', x'00ff10', x'cafe',
			'medium', 'a,c', '{"a": [1, 2], "b": null}')`
	must(t, src.Exec(ctx, "USE src; INSERT INTO types VALUES "+fmt.Sprintf(row, 1)))
	pg := harness.StartPostgres(t)
	targets := openTargets(t, ctx, pg)
	yaml := mySourceYAML("src", src.DSN(""), "tables: [src.types]") + "sinks:\n"
	for _, tg := range targets {
		yaml += fmt.Sprintf("  - {name: types-%s, type: sql, topics: [src.src.types], dsn: %q, table: \"${source.table}\"}\n", tg.name, tg.dsn)
	}
	d := runDaemon(t, yaml)
	waitStatus(t, d, "src", time.Minute, myStreaming)
	must(t, src.Exec(ctx, "USE src; INSERT INTO types VALUES "+fmt.Sprintf(row, 2)+"; INSERT INTO types (id) VALUES (3)"))

	common := map[string]string{
		"c_tiny": "-128", "c_utiny": "255", "c_small": "-32768", "c_usmall": "65535", "c_medium": "-8388608",
		"c_int": "-2147483648", "c_uint": "4294967295", "c_big": "-9223372036854775808", "c_ubig": "9223372036854775807",
		"c_dec": "-12345678901234.123456", "c_float": "1.5", "c_double": "-2.25", "c_bit1": "1", "c_bit10": "0102",
		"c_date": "2024-02-29", "c_dt": "2024-02-29 13:14:15.123456", "c_dt0": "1999-12-31 23:59:59",
		"c_ts": "2024-02-29T13:14:15.250Z", "c_time": "13:14:15.000001", "c_year": "2024",
		"c_char": "ab", "c_varchar": `héllo "wörld" ✓ 日本 🎉`, "c_latin1": "café", "c_text": "long text ✓",
		"c_blob": "00ff10", "c_varbin": "cafe", "c_enum": "medium", "c_set": "a,c", "c_json": `{"a": [1, 2], "b": null}`,
	}
	want := map[string]map[string]string{
		"postgres": {"c_bit1": "true", "c_bit10": `\x0102`, "c_blob": `\x00ff10`, "c_varbin": `\xcafe`,
			"c_ts": "2024-02-29 13:14:15.25+00", "c_json": `{"a": [1, 2], "b": null}`},
		"mariadb": {"c_bit10": "0102", "c_blob": "00FF10", "c_varbin": "CAFE", "c_dt0": "1999-12-31 23:59:59.000000",
			"c_ts": "2024-02-29 13:14:15.250000", "c_time": "13:14:15.000001"},
		"sqlite": {"c_ts": "2024-02-29T13:14:15.25Z"}, // the same instant, in RFC 3339 without trailing zeros
	}
	checkTypeRows(t, ctx, d, targets, common, want, map[string]bool{"c_bit10": true, "c_blob": true, "c_varbin": true}, "c_tiny")
}

// TestSQLSinkSchemaChangeEvolves: a sink that also reads the source's
// schema-change topic adds the columns of an ALTER TABLE to every target
// before any row carries them; the next row fills them.
func TestSQLSinkSchemaChangeEvolves(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := harness.StartMariaDB(t)
	must(t, src.Exec(ctx, `CREATE DATABASE src; CREATE TABLE src.items (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO src.items VALUES (1, 'one');`))
	pg := harness.StartPostgres(t)
	targets := openTargets(t, ctx, pg)
	yaml := mySourceYAML("src", src.DSN(""), "tables: [src.items]") + "sinks:\n"
	for _, tg := range targets {
		yaml += fmt.Sprintf("  - {name: evolve-%s, type: sql, topics: [src, \"src\\\\.src\\\\..*\"], dsn: %q, table: \"${source.table}\", auto_evolve: true}\n", tg.name, tg.dsn)
	}
	d := runDaemon(t, yaml)
	waitStatus(t, d, "src", time.Minute, myStreaming)
	count := func(tg *sqlTarget, q string) (int, error) {
		var n int
		err := tg.db.QueryRowContext(ctx, q).Scan(&n)
		return n, err
	}
	waitFor := func(tg *sqlTarget, what, q string, want int) {
		t.Helper()
		var n int
		var err error
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if n, err = count(tg, q); err == nil && n == want {
				return
			}
		}
		st, _ := d.Supervisor().Status("evolve-" + tg.name)
		sst, _ := d.Supervisor().Status("src")
		t.Fatalf("%s: %s: %d (%v), want %d; sink status %+v; source status %+v", tg.name, what, n, err, want, st, sst)
	}
	for _, tg := range targets {
		waitFor(tg, "rows", "SELECT COUNT(*) FROM items", 1)
	}
	must(t, src.Exec(ctx, `ALTER TABLE src.items ADD COLUMN price DECIMAL(10,2), ADD COLUMN seen DATETIME(6), ADD COLUMN flag BIT(1), ADD COLUMN shape GEOMETRY`))
	colsQuery := map[string]string{
		"postgres": `SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name IN ('price', 'seen', 'flag')`,
		"mariadb":  `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'target' AND table_name = 'items' AND column_name IN ('price', 'seen', 'flag')`,
		"sqlite":   `SELECT COUNT(*) FROM pragma_table_info('items') WHERE name IN ('price', 'seen', 'flag')`,
	}
	for _, tg := range targets {
		// The geometry's type depends on more than its definition: it
		// waits for a row.
		waitFor(tg, "columns added by the ALTER", colsQuery[tg.name], 3)
	}
	must(t, src.Exec(ctx, `INSERT INTO src.items VALUES (2, 'two', 12.50, '2024-01-02 03:04:05.678901', b'1', ST_GeomFromText('POINT(1 2)'))`))
	for _, tg := range targets {
		waitFor(tg, "the new row with every column", "SELECT COUNT(*) FROM items WHERE id = 2 AND price * 1 = 12.5 AND seen IS NOT NULL AND flag IS NOT NULL AND shape IS NOT NULL", 1)
	}
}
