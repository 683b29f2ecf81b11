package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func mustParse(t *testing.T, doc string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return c
}

func TestDottedAndNestedSpellings(t *testing.T) {
	dotted := mustParse(t, `sources:
  - name: a
    type: mysql
    dsn: mysql://u@h/
    heartbeat.interval: 10s
    heartbeat.action.query: select 1
    snapshot: never
    snapshot.fetch.size: 500
    snapshot.locking.mode: none
    decimal.handling.mode: string
    tombstones.on.delete: false
sinks:
  - name: b
    type: sql
    topics: [t]
    dsn: postgres://h/db
    errors.tolerance: all
    errors.deadletterqueue.topic.name: dlq
    primary_key.mode: record_value
    primary_key.fields: [id]
`)
	nested := mustParse(t, `sources:
  - name: a
    type: mysql
    dsn: mysql://u@h/
    heartbeat:
      interval: 10s
      action: {query: select 1}
    snapshot: never
    snapshot.fetch: {size: 500}
    snapshot.locking: {mode: none}
    decimal: {handling: {mode: string}}
    tombstones: {on.delete: false}
sinks:
  - name: b
    type: sql
    topics: [t]
    dsn: postgres://h/db
    errors:
      tolerance: all
      deadletterqueue: {topic: {name: dlq}}
    primary_key: {mode: record_value, fields: [id]}
`)
	if !reflect.DeepEqual(dotted.Sources, nested.Sources) || !reflect.DeepEqual(dotted.Sinks, nested.Sinks) {
		t.Errorf("spellings differ:\n%v\nvs\n%v", dotted, nested)
	}
	s := nested.Sources[0]
	if s.HeartbeatInterval.Std() != 10*time.Second || s.HeartbeatActionQuery != "select 1" ||
		s.SnapshotFetchSize != 500 || s.SnapshotLockingMode != "none" || s.DecimalHandlingMode != "string" || s.TombstonesOnDelete {
		t.Errorf("nested source = %+v", s)
	}
	k := nested.Sinks[0]
	if k.ErrorsTolerance != "all" || k.ErrorsDeadLetterQueueTopicName != "dlq" || k.PrimaryKeyMode != "record_value" || !reflect.DeepEqual(k.PrimaryKeyFields, []string{"id"}) {
		t.Errorf("nested sink = %+v", k)
	}
	// "snapshot" is both a key and a prefix: a scalar is the key, a mapping the prefix.
	checkErrs(t, `sources:
  - name: a
    type: postgres
    dsn: postgres://h/db
    snapshot: {fetch.size: 5, mode: x}
`, []string{`test.yaml:5:31: sources[0].snapshot.mode: unknown key`})
}

func TestMergeKeysAndExtensionKeys(t *testing.T) {
	c := mustParse(t, `x-source-defaults: &defaults
  type: postgres
  snapshot: never
  max_batch_size: 10
sources:
  - <<: *defaults
    name: a
    dsn: postgres://h/a
  - <<: *defaults
    name: b
    dsn: postgres://h/b
    snapshot: initial
`)
	if a, b := c.Sources[0], c.Sources[1]; a.Type != "postgres" || a.Snapshot != "never" || a.MaxBatchSize != 10 || b.Snapshot != "initial" {
		t.Errorf("merge keys: %+v / %+v", a, b)
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, `sources:
  - name: Inventory.EU-1
    type: postgres
    dsn: postgres://h/db
  - name: shop
    type: mysql
    dsn: mysql://h/
sinks:
  - name: es
    type: elasticsearch
    topics: [t]
    urls: [http://h:9200]
  - name: db
    type: sql
    topics: [t]
    dsn: sqlite:///x.db
`)
	if c.StateDir != "./data" || c.ShutdownTimeout.Std() != 30*time.Second || c.Log != (Log{Level: "info", Format: "auto"}) {
		t.Errorf("top-level defaults: %q %v %+v", c.StateDir, c.ShutdownTimeout, c.Log)
	}
	k := c.Kafka
	if len(k.Brokers) != 0 || k.Listen != "127.0.0.1:9092" || k.ClientID != "sluice" || k.OffsetsTopic != "sluice.offsets" ||
		k.Topic.Partitions != 1 || k.Topic.ReplicationFactor != -1 {
		t.Errorf("kafka defaults: %+v", k)
	}
	if c.API.Listen != "127.0.0.1:8083" {
		t.Errorf("api.listen = %q", c.API.Listen)
	}
	pg, my := c.Sources[0], c.Sources[1]
	wantPG := Source{
		Name: "Inventory.EU-1", Type: "postgres", DSN: "postgres://h/db",
		TopicPrefix: "Inventory.EU-1", Snapshot: "initial", SnapshotFetchSize: 10000,
		SlotName: "sluice_inventory_eu_1", PublicationName: "sluice_inventory_eu_1", PublicationAutocreateMode: "filtered",
		DecimalHandlingMode: "precise", TimePrecisionMode: "" /* the connector type's default */, IntervalHandlingMode: "numeric", BinaryHandlingMode: "bytes",
		TombstonesOnDelete: true, Schemas: true, UnavailableValuePlaceholder: "__debezium_unavailable_value",
		ExactlyOnce: true, MaxBatchSize: 2048, MaxBatchWait: Duration(50 * time.Millisecond),
	}
	if !reflect.DeepEqual(pg, wantPG) {
		t.Errorf("postgres source defaults:\n got %+v\nwant %+v", pg, wantPG)
	}
	if my.SnapshotLockingMode != "minimal" || my.GTID != "auto" || my.BigIntUnsignedHandlingMode != "long" || my.ServerID != DefaultServerID("shop") || my.SlotName != "" || my.PublicationAutocreateMode != "" {
		t.Errorf("mysql source defaults: %+v", my)
	}
	if id := DefaultServerID("shop"); id < 1000 || id >= 1<<31 {
		t.Errorf("DefaultServerID = %d", id)
	}
	es, db := c.Sinks[0], c.Sinks[1]
	wantES := Sink{Name: "es", Type: "elasticsearch", Topics: []string{"t"}, ErrorsTolerance: "none", URLs: []string{"http://h:9200"},
		BulkMaxActions: 1000, BulkMaxBytes: 5242880, BulkFlushInterval: Duration(time.Second), Concurrency: 1,
		BehaviorOnNullValues: "delete", AutoCreate: true}
	if !reflect.DeepEqual(es, wantES) {
		t.Errorf("elasticsearch sink defaults:\n got %+v\nwant %+v", es, wantES)
	}
	wantDB := Sink{Name: "db", Type: "sql", Topics: []string{"t"}, ErrorsTolerance: "none", AutoCreate: true, DSN: "sqlite:///x.db",
		InsertMode: "upsert", DeleteEnabled: true, PrimaryKeyMode: "record_key", BatchSize: 2000}
	if !reflect.DeepEqual(db, wantDB) {
		t.Errorf("sql sink defaults:\n got %+v\nwant %+v", db, wantDB)
	}
}

func TestExplicitZeroValuesAreKept(t *testing.T) {
	c := mustParse(t, `kafka:
  brokers: [k:9092]
api:
  listen: ""
sources:
  - name: a
    type: postgres
    dsn: postgres://h/db
    topic_prefix: ""
    max_batch_wait: 0
    tombstones.on.delete: false
    schemas: false
    snapshot.fetch.size: ~
sinks:
  - name: b
    type: sql
    topics: [t]
    dsn: sqlite:///x.db
    auto_create: false
    delete_enabled: false
`)
	if c.API.Listen != "" {
		t.Errorf("api.listen \"\" should disable the API, got %q", c.API.Listen)
	}
	if c.Kafka.Listen != "" {
		t.Errorf("kafka.listen defaulted with brokers set: %q", c.Kafka.Listen)
	}
	s := c.Sources[0]
	if s.TopicPrefix != "a" || s.MaxBatchWait != 0 || s.TombstonesOnDelete || s.Schemas || s.SnapshotFetchSize != 10000 {
		t.Errorf("source = %+v", s)
	}
	if k := c.Sinks[0]; k.AutoCreate || k.DeleteEnabled {
		t.Errorf("sink = %+v", k)
	}
}

func TestApplyDefaultsProgrammatic(t *testing.T) {
	c := &Config{Sources: []Source{{Name: "a", Type: SourcePostgres, DSN: "postgres://h/db"}}}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := c.Sources[0]; !s.TombstonesOnDelete || s.SlotName != "sluice_a" || s.MaxBatchWait.Std() != 50*time.Millisecond {
		t.Errorf("source = %+v", s)
	}
	if c.API.Listen != "127.0.0.1:8083" {
		t.Errorf("api.listen = %q", c.API.Listen)
	}
}

func TestDefaultSlotName(t *testing.T) {
	for in, want := range map[string]string{
		"inventory": "sluice_inventory",
		"Inv.EU-1":  "sluice_inv_eu_1",
		"a_b":       "sluice_a_b",
	} {
		if got := DefaultSlotName(in); got != want {
			t.Errorf("DefaultSlotName(%q) = %q, want %q", in, got, want)
		}
	}
	long := DefaultSlotName(strings.Repeat("x", 80))
	if len(long) != maxIdentLen || !strings.HasPrefix(long, "sluice_xxx") || !slotNameRe.MatchString(long) {
		t.Errorf("DefaultSlotName(80 x) = %q", long)
	}
	if DefaultSlotName(strings.Repeat("x", 80)) == DefaultSlotName(strings.Repeat("x", 81)) {
		t.Error("long names that differ share a slot name")
	}
}

func TestTransformPosition(t *testing.T) {
	c := mustParse(t, `sources:
  - name: a
    type: postgres
    dsn: postgres://h/db
    transforms:
      - type: unwrap
      - type: route
        regex: "(.*)"
`)
	tr := c.Sources[0].Transforms[1]
	if tr.Type != "route" || tr.Options["regex"] != "(.*)" {
		t.Errorf("transform = %+v", tr)
	}
	if got := tr.Errorf("unknown transform %q", tr.Type).Error(); got != `test.yaml:7:9: sources[0].transforms[1]: unknown transform "route"` {
		t.Errorf("Errorf = %s", got)
	}
}

func TestEmptyDocument(t *testing.T) {
	for _, doc := range []string{"", "# just a comment\n", "---\n", "~\n"} {
		c, err := Parse("empty.yaml", []byte(doc))
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if c.StateDir != "./data" {
			t.Errorf("%q: defaults not applied", doc)
		}
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"10s": 10 * time.Second, "500ms": 500 * time.Millisecond, "1m30s": 90 * time.Second,
		"1500": 1500 * time.Millisecond, "0": 0, "0s": 0,
	} {
		d, err := ParseDuration(in)
		if err != nil || d.Std() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, d, err, want)
		}
	}
	if _, err := ParseDuration("10 seconds"); err == nil {
		t.Error("ParseDuration(10 seconds) succeeded")
	}
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 250"), &v); err != nil || v.D.Std() != 250*time.Millisecond {
		t.Errorf("yaml.Unmarshal = %v, %v", v.D, err)
	}
	if err := yaml.Unmarshal([]byte("d: [1]"), &v); err == nil {
		t.Error("yaml.Unmarshal of a list succeeded")
	}
	out, _ := yaml.Marshal(v)
	if string(out) != "d: 250ms\n" {
		t.Errorf("yaml.Marshal = %q", out)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"name", "type", "dsn", "tables", "snapshot", "snapshot.fetch.size", "topic_prefix", "tombstones.on.delete"}
	for in, want := range map[string]string{
		"snapshott":   "snapshot",
		"nmae":        "name",
		"tpye":        "type",
		"table":       "tables",
		"TopicPrefix": "topic_prefix",
		"tombstones":  "tombstones.on.delete",
		"dsnn":        "dsn",
		"completely":  "",
		"x":           "",
	} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExamplesParse(t *testing.T) {
	env := map[string]string{
		"SLUICE_PG_DSN":      "postgres://sluice:pg-secret@localhost:5432/inventory",
		"SLUICE_MYSQL_DSN":   "mysql://sluice:my-secret@localhost:3306",
		"SLUICE_SQLITE_PATH": "/tmp/sluice-quickstart.db",
		"PG_PASSWORD":        "pg-secret",
		"MYSQL_PASSWORD":     "mysql-secret",
		"KAFKA_PASSWORD":     "kafka-secret",
		"ES_PASSWORD":        "es-secret",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	files, err := filepath.Glob("examples/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			out := c.String()
			for _, secret := range env {
				if strings.Contains(secret, "secret") && strings.Contains(out, secret) {
					t.Errorf("String() leaks %q", secret)
				}
			}
			// The rendering parses back to the same configuration.
			c2, err := Parse("rendered.yaml", []byte(out))
			if err != nil {
				t.Fatalf("rendered config does not parse:\n%v\n%s", err, out)
			}
			if out2 := c2.String(); out2 != out {
				t.Errorf("rendering is not stable:\n%s\nvs\n%s", out, out2)
			}
		})
	}
	t.Run("quickstart content", func(t *testing.T) {
		t.Setenv("SLUICE_STATE_DIR", "")
		c, err := Load("examples/quickstart.yaml")
		if err != nil {
			t.Fatal(err)
		}
		s := c.Sources[0]
		if c.StateDir != "./data" || len(c.Kafka.Brokers) != 0 || s.Name != "inventory" || s.Type != SourcePostgres ||
			s.DSN != env["SLUICE_PG_DSN"] || s.TopicPrefix != "inventory" ||
			!reflect.DeepEqual(s.Tables, []string{"public.customers", "public.products", "public.orders"}) {
			t.Errorf("quickstart source = %+v", s)
		}
		if k := c.Sinks[0]; len(c.Sinks) != 1 || k.Type != SinkSQL || k.DSN != "sqlite:///tmp/sluice-quickstart.db" ||
			k.Table != "${source.table}" || !k.AutoCreate || !k.AutoEvolve || !k.DeleteEnabled ||
			!reflect.DeepEqual(k.Topics, []string{`inventory\.public\..*`}) {
			t.Errorf("quickstart sinks = %+v", c.Sinks)
		}
	})
	t.Run("quickstart with only SLUICE_PG_DSN", func(t *testing.T) {
		t.Setenv("SLUICE_SQLITE_PATH", "")
		t.Setenv("SLUICE_STATE_DIR", "/var/lib/sluice")
		c, err := Load("examples/quickstart.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.StateDir != "/var/lib/sluice" || c.Kafka.Listen != "127.0.0.1:9092" || c.API.Listen != "127.0.0.1:8083" ||
			c.Sinks[0].DSN != "sqlite:///var/lib/sluice/quickstart.db" {
			t.Errorf("quickstart = %+v", c)
		}
	})
}

func TestRoundTripKeepsDollarsAndZeros(t *testing.T) {
	t.Setenv("SLUICE_T_PW", "pw")
	c := mustParse(t, `api: {listen: ""}
sources:
  - name: a
    type: postgres
    dsn: postgres://u:${SLUICE_T_PW}@h/db
    tables: ["public\\.orders$", "public.a$$b"]
    heartbeat.interval: 1s
    heartbeat.action.query: "select '$${x}'"
    tombstones.on.delete: false
    max_batch_wait: 0
    transforms: [{type: t, tmpl: "$${y}"}]
sinks:
  - name: b
    type: sql
    topics: [t]
    dsn: sqlite:///x.db
    table: "${topic}"
`)
	out := c.String()
	c2 := mustParse(t, out)
	c.meta, c2.meta = nil, nil
	for _, x := range []*Config{c, c2} {
		x.Sources[0].DSN = ""
		x.Sources[0].Transforms[0].Line, x.Sources[0].Transforms[0].Column, x.Sources[0].Transforms[0].File = 0, 0, ""
	}
	if !reflect.DeepEqual(c, c2) {
		t.Errorf("round trip differs:\n%s\n%#v\n%#v", out, c, c2)
	}
}

func TestLoadUsesPathForErrorsAndFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("state_dir: ${file:token}\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || err.Error() != path+":2:1: bogus: unknown key" {
		t.Errorf("Load error = %v", err)
	}
}

func TestMySQLOnlyKeys(t *testing.T) {
	c := mustParse(t, `sources:
  - name: a
    type: mysql
    dsn: mysql://u@h/
    bigint.unsigned.handling.mode: precise
    schema.history.internal.skip.unparseable.ddl: true
    include.query: true
  - name: b
    type: mysql
    dsn: mysql://u@h/
    bigint: {unsigned: {handling: {mode: long}}}
    schema: {history: {internal: {skip.unparseable.ddl: true}}}
    include: {query: true, unknown.datatypes: true}
  - name: c
    type: mysql
    dsn: mysql://u@h/
`)
	if m := c.Sources[0].BigIntUnsignedHandlingMode; m != "precise" {
		t.Errorf("bigint.unsigned.handling.mode = %q", m)
	}
	if m := c.Sources[1].BigIntUnsignedHandlingMode; m != "long" {
		t.Errorf("nested bigint.unsigned.handling.mode = %q", m)
	}
	if x, y, z := c.Sources[0], c.Sources[1], c.Sources[2]; !x.IncludeQuery || !y.IncludeQuery || !y.IncludeUnknownDatatypes || z.IncludeQuery {
		t.Errorf("include.query = %v %v %v (want true true false)", x.IncludeQuery, y.IncludeQuery, z.IncludeQuery)
	}
	if !c.Sources[0].SkipUnparseableDDL || !c.Sources[1].SkipUnparseableDDL || c.Sources[2].SkipUnparseableDDL {
		t.Errorf("schema.history.internal.skip.unparseable.ddl = %v %v %v (want true true false)",
			c.Sources[0].SkipUnparseableDDL, c.Sources[1].SkipUnparseableDDL, c.Sources[2].SkipUnparseableDDL)
	}
	errs := strings.Join(parseErrs(t, `sources:
  - name: a
    type: mysql
    dsn: mysql://u@h/
    bigint.unsigned.handling.mode: string
  - name: b
    type: postgres
    dsn: postgres://h/db
    bigint.unsigned.handling.mode: precise
    schema.history.internal.skip.unparseable.ddl: true
    include.query: true
`), "\n")
	for _, want := range []string{
		`sources[0].bigint.unsigned.handling.mode: `,
		`sources[1].bigint.unsigned.handling.mode: only valid for type mysql (this source is postgres)`,
		`sources[1].schema.history.internal.skip.unparseable.ddl: only valid for type mysql (this source is postgres)`,
		`sources[1].include.query: only valid for type mysql (this source is postgres)`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors lack %q:\n%s", want, errs)
		}
	}
}
