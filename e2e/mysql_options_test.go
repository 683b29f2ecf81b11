package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
	"github.com/sluice-cdc/sluice/internal/harness"
)

// TestMySQLOptionsMapping checks that the MySQL-only keys reach the
// source's options (no database needed).
func TestMySQLOptionsMapping(t *testing.T) {
	parse := func(extra ...string) *configs.Source {
		t.Helper()
		cfg, err := configs.Parse("test.yaml", []byte(mySourceYAML("opts", "mysql://u@h:3306/", extra...)))
		if err != nil {
			t.Fatal(err)
		}
		return &cfg.Sources[0]
	}
	o := daemon.MySQLOptions(parse(), slog.Default())
	if o.Decoder.BigIntUnsignedMode != "long" || o.SkipUnparsableDDL || o.IncludeQuery {
		t.Errorf("defaults: bigint %q, skip DDL %v, include query %v", o.Decoder.BigIntUnsignedMode, o.SkipUnparsableDDL, o.IncludeQuery)
	}
	o = daemon.MySQLOptions(parse("bigint.unsigned.handling.mode: precise",
		"schema.history.internal.skip.unparseable.ddl: true", "include.query: true"), slog.Default())
	if o.Decoder.BigIntUnsignedMode != "precise" || !o.SkipUnparsableDDL || !o.IncludeQuery {
		t.Errorf("set: bigint %q, skip DDL %v, include query %v", o.Decoder.BigIntUnsignedMode, o.SkipUnparsableDDL, o.IncludeQuery)
	}
}

// TestMySQLBigIntAndQuery runs two connectors on one MariaDB: one with
// bigint.unsigned.handling.mode precise and include.query (MariaDB's
// binlog_annotate_row_events is on in the harness), one with the defaults.
func TestMySQLBigIntAndQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; USE app;
		CREATE TABLE u (id BIGINT UNSIGNED PRIMARY KEY, v BIGINT UNSIGNED, s BIGINT);
		INSERT INTO u VALUES (18446744073709551615, 9223372036854775808, -1);`))
	yaml := mySourceYAML("prec", my.DSN(""), "tables: [app.u]", "bigint.unsigned.handling.mode: precise", "include.query: true") +
		strings.TrimPrefix(mySourceYAML("lng", my.DSN(""), "tables: [app.u]"), "\nsources:\n")
	d := runDaemon(t, yaml)
	prec := newConsumer(t, d.Brokers(), "prec.app.u")
	lng := newConsumer(t, d.Brokers(), "lng.app.u")

	maxU := new(big.Int).SetUint64(18446744073709551615)
	dec := func(b *big.Int) string { return base64.StdEncoding.EncodeToString(twosComplement(b)) }
	p := prec.next(1, time.Minute)[0]
	if !jsonEq(p.Key, map[string]any{"id": dec(maxU)}) {
		t.Errorf("precise snapshot key %v", p.Key)
	}
	if !jsonEq(p.Value["after"], map[string]any{"id": dec(maxU), "v": dec(new(big.Int).Lsh(big.NewInt(1), 63)), "s": -1}) {
		t.Errorf("precise snapshot after %v", p.Value["after"])
	}
	if q := p.Value["source"].(map[string]any)["query"]; q != nil {
		t.Errorf("snapshot source.query = %v, want null", q)
	}
	checkDecimalField(t, p.RawValue, "v")
	l := lng.next(1, time.Minute)[0]
	if !jsonEq(l.Value["after"], map[string]any{"id": -1, "v": -9223372036854775808, "s": -1}) {
		t.Errorf("long snapshot after %v", l.Value["after"])
	}

	const insert = "INSERT INTO u VALUES (18446744073709551614, 18446744073709551615, 5)"
	must(t, my.Exec(ctx, "USE app; "+insert+";"))
	p = prec.next(1, time.Minute)[0]
	want := map[string]any{"id": dec(new(big.Int).Sub(maxU, big.NewInt(1))), "v": dec(maxU), "s": 5}
	if p.op() != "c" || !jsonEq(p.Value["after"], want) {
		t.Errorf("precise streamed %s after %v, want %v", p.op(), p.Value["after"], want)
	}
	if q := p.Value["source"].(map[string]any)["query"]; q != insert {
		t.Errorf("streamed source.query = %v, want %q", q, insert)
	}
	checkDecimalField(t, p.RawValue, "v")
	l = lng.next(1, time.Minute)[0]
	if !jsonEq(l.Value["after"], map[string]any{"id": -2, "v": -1, "s": 5}) {
		t.Errorf("long streamed after %v", l.Value["after"])
	}
	if q := l.Value["source"].(map[string]any)["query"]; q != nil {
		t.Errorf("include.query off: source.query = %v", q)
	}
}

// checkDecimalField checks that field f of the value's "after" schema is
// org.apache.kafka.connect.data.Decimal with scale 0.
func checkDecimalField(t *testing.T, raw []byte, f string) {
	t.Helper()
	var m struct {
		Schema struct {
			Fields []struct {
				Field  string `json:"field"`
				Fields []struct {
					Field      string            `json:"field"`
					Type       string            `json:"type"`
					Name       string            `json:"name"`
					Parameters map[string]string `json:"parameters"`
				} `json:"fields"`
			} `json:"fields"`
		} `json:"schema"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, sf := range m.Schema.Fields {
		if sf.Field != "after" {
			continue
		}
		for _, c := range sf.Fields {
			if c.Field == f {
				if c.Type != "bytes" || c.Name != "org.apache.kafka.connect.data.Decimal" || c.Parameters["scale"] != "0" {
					t.Errorf("schema of %s: %+v", f, c)
				}
				return
			}
		}
	}
	t.Errorf("no field %s in the after schema: %s", f, raw)
}

// TestMySQLTinyInt1AsBoolean: with tinyint1_as_boolean, TINYINT(1) and
// BOOLEAN columns are booleans in the snapshot (catalog definitions), when
// streamed, and in a table created by DDL while streaming (parsed
// definitions); TINYINT(4) stays a number. Without it they are INT16.
func TestMySQLTinyInt1AsBoolean(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, `CREATE DATABASE app; USE app;
		CREATE TABLE f (id INT PRIMARY KEY, a TINYINT(1), b BOOLEAN NOT NULL, n TINYINT(4));
		INSERT INTO f VALUES (1, 1, FALSE, 7), (2, NULL, TRUE, -1);`))
	yaml := mySourceYAML("bool", my.DSN(""), "tables: [app.f, app.g]", "tinyint1_as_boolean: true") +
		strings.TrimPrefix(mySourceYAML("num", my.DSN(""), "tables: [app.f]"), "\nsources:\n")
	d := runDaemon(t, yaml)
	boolF := newConsumer(t, d.Brokers(), "bool.app.f")
	num := newConsumer(t, d.Brokers(), "num.app.f")
	check := func(r record, after map[string]any) {
		t.Helper()
		if !jsonEq(r.Value["after"], after) {
			t.Errorf("%s: after %v, want %v", r.Topic, r.Value["after"], after)
		}
	}
	snap := boolF.next(2, time.Minute)
	check(snap[0], map[string]any{"id": 1, "a": true, "b": false, "n": 7})
	check(snap[1], map[string]any{"id": 2, "a": nil, "b": true, "n": -1})
	if !strings.Contains(string(snap[0].RawValue), `{"type":"boolean","optional":true,"field":"a"}`) ||
		!strings.Contains(string(snap[0].RawValue), `{"type":"boolean","optional":false,"field":"b"}`) {
		t.Errorf("schema of a and b is not boolean: %.600s", snap[0].RawValue)
	}
	check(num.next(2, time.Minute)[0], map[string]any{"id": 1, "a": 1, "b": 0, "n": 7})

	must(t, my.Exec(ctx, `USE app; INSERT INTO f VALUES (3, 5, TRUE, 1);
		CREATE TABLE g (id INT PRIMARY KEY, ok BOOL, level TINYINT); INSERT INTO g VALUES (1, 1, 1);`))
	check(boolF.next(1, time.Minute)[0], map[string]any{"id": 3, "a": true, "b": true, "n": 1})
	check(num.next(1, time.Minute)[0], map[string]any{"id": 3, "a": 5, "b": 1, "n": 1})
	g := newConsumer(t, d.Brokers(), "bool.app.g").next(1, time.Minute)[0]
	check(g, map[string]any{"id": 1, "ok": true, "level": 1})
}
