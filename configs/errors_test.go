package configs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// minimal valid pieces to build test documents from.
const (
	pgSource = `  - name: inv
    type: postgres
    dsn: postgres://u@h/db
`
)

// parseErrs parses doc as test.yaml and returns the error lines.
func parseErrs(t *testing.T, doc string) []string {
	t.Helper()
	_, err := Parse("test.yaml", []byte(doc))
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	return strings.Split(err.Error(), "\n")
}

func checkErrs(t *testing.T, doc string, want []string) {
	t.Helper()
	got := parseErrs(t, doc)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors for\n%s\ngot:\n  %s\nwant:\n  %s", doc, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestErrorGolden(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unknown key with suggestion",
			doc: `sources:
` + pgSource + `    snapshott: initial
`,
			want: []string{`test.yaml:5:5: sources[0].snapshott: unknown key (did you mean "snapshot"?)`},
		},
		{
			name: "unknown keys: case, dotted prefix, nested dotted, none close",
			doc: `sources:
` + pgSource + `    topicPrefix: x
    tombstones: false
    heartbeat: {intervall: 1s}
    decimal_handling_mode: precise
foo: 1
`,
			want: []string{
				`test.yaml:5:5: sources[0].topicPrefix: unknown key (did you mean "topic_prefix"?)`,
				`test.yaml:6:5: sources[0].tombstones: unknown key (did you mean "tombstones.on.delete"?)`,
				`test.yaml:7:17: sources[0].heartbeat.intervall: unknown key (did you mean "heartbeat.interval"?)`,
				`test.yaml:8:5: sources[0].decimal_handling_mode: unknown key (did you mean "decimal.handling.mode"?)`,
				`test.yaml:9:1: foo: unknown key`,
			},
		},
		{
			name: "wrong types",
			doc: `kafka:
  topic:
    partitions: abc
  brokers: {a: b}
log: [info]
api:
  listen: {a: 1}
sources:
` + pgSource + `    schemas: maybe
    max_batch_wait: fast
    max_batch_size: 1.5
    server_id: -1
    tables: public.customers
`,
			want: []string{
				`test.yaml:3:17: kafka.topic.partitions: expected an integer, got "abc"`,
				`test.yaml:4:12: kafka.brokers: expected a list of strings, got a mapping`,
				`test.yaml:5:6: log: expected a mapping, got a list`,
				`test.yaml:7:11: api.listen: expected a string, got a mapping`,
				`test.yaml:12:14: sources[0].schemas: expected a boolean (true or false), got "maybe"`,
				`test.yaml:13:21: sources[0].max_batch_wait: expected a duration like "10s", "500ms" or "1m30s" (a plain integer is milliseconds), got "fast"`,
				`test.yaml:14:21: sources[0].max_batch_size: expected an integer, got "1.5"`,
				`test.yaml:15:16: sources[0].server_id: expected a non-negative integer, got "-1"`,
				`test.yaml:16:13: sources[0].tables: expected a list of strings, got "public.customers"`,
			},
		},
		{
			name: "map where list expected",
			doc: `sources: {name: x}
sinks: 3
`,
			want: []string{
				`test.yaml:1:10: sources: expected a list, got a mapping`,
				`test.yaml:2:8: sinks: expected a list, got "3"`,
			},
		},
		{
			name: "missing required at the parent mapping, empty at the key",
			doc: `sources:
  - name: a
    type: postgres
  - name: b
    type: mysql
    dsn: ""
sinks:
  - name: c
    type: sql
    topics: [t]
  - name: d
    type: elasticsearch
    topics: []
  - topics: [t]
`,
			want: []string{
				`test.yaml:2:5: sources[0]: missing required key "dsn"`,
				`test.yaml:6:10: sources[1].dsn: must not be empty`,
				`test.yaml:8:5: sinks[0]: missing required key "dsn"`,
				`test.yaml:11:5: sinks[1]: missing required key "urls"`,
				`test.yaml:13:13: sinks[1].topics: must not be empty`,
				`test.yaml:14:5: sinks[2]: missing required key "name"`,
				`test.yaml:14:5: sinks[2]: missing required key "type"`,
			},
		},
		{
			name: "duplicate connector names across sources and sinks",
			doc: `sources:
` + pgSource + `  - name: inv
    type: mysql
    dsn: mysql://u@h/
    topic_prefix: inv2
sinks:
  - name: inv
    type: sql
    topics: [t]
    dsn: sqlite:///tmp/x.db
`,
			want: []string{
				`test.yaml:5:11: sources[1].name: duplicate connector name "inv" (first used by sources[0] at line 2)`,
				`test.yaml:10:11: sinks[0].name: duplicate connector name "inv" (first used by sources[0] at line 2)`,
			},
		},
		{
			name: "duplicate YAML keys and duplicates across spellings",
			doc: `state_dir: a
state_dir: b
sources:
  - name: a
    name: b
    type: postgres
    dsn: postgres://h/db
    heartbeat.interval: 1s
    heartbeat:
      interval: 2s
    message.key.columns:
      t.a: [x]
      t.a: [y]
`,
			want: []string{
				`test.yaml:2:1: state_dir: duplicate key (first defined at line 1)`,
				`test.yaml:5:5: sources[0].name: duplicate key (first defined at line 4)`,
				`test.yaml:10:7: sources[0].heartbeat.interval: duplicate key (first defined at line 8)`,
				`test.yaml:13:7: sources[0].message.key.columns["t.a"]: duplicate key (first defined at line 12)`,
			},
		},
		{
			name: "type-specific keys on the wrong type",
			doc: `sources:
` + pgSource + `    server_id: 5
    gtid: auto
  - name: my
    type: mysql
    dsn: mysql://u@h/
    slot_name: x
sinks:
  - name: s
    type: sql
    topics: [t]
    dsn: sqlite:///x.db
    urls: [http://x]
    bulk: {max_actions: 5}
  - name: e
    type: elasticsearch
    topics: [t]
    urls: [http://x]
    insert_mode: upsert
`,
			want: []string{
				`test.yaml:5:5: sources[0].server_id: only valid for type mysql (this source is postgres)`,
				`test.yaml:6:5: sources[0].gtid: only valid for type mysql (this source is postgres)`,
				`test.yaml:10:5: sources[1].slot_name: only valid for type postgres (this source is mysql)`,
				`test.yaml:16:5: sinks[0].urls: only valid for type elasticsearch (this sink is sql)`,
				`test.yaml:17:12: sinks[0].bulk.max_actions: only valid for type elasticsearch (this sink is sql)`,
				`test.yaml:22:5: sinks[1].insert_mode: only valid for type sql (this sink is elasticsearch)`,
			},
		},
		{
			name: "enums, regexes, ranges, durations",
			doc: `shutdown_timeout: 0
log: {level: verbose, format: JSON}
kafka:
  topic: {partitions: 0, replication_factor: 0}
  sasl: {mechanism: plain, username: u, password: p}
  compression: snapy
sources:
  - name: a
    type: postgress
    dsn: x
  - name: b
    type: postgres
    dsn: postgres://h/db
    snapshot: inital
    tables: ["public.(orders", customers]
    exclude_tables: ["public\\..*_archive$"]
    heartbeat.interval: -1s
    max_batch_size: 0
    slot_name: Bad-Slot
sinks:
  - name: c
    type: elasticsearch
    topics: ["a["]
    urls: [ftp://x]
    behavior.on.null.values: skip
    bulk.flush_interval: -5
`,
			want: []string{
				`test.yaml:1:19: shutdown_timeout: must be greater than 0`,
				`test.yaml:2:14: log.level: invalid value "verbose": must be one of debug, info, warn, error`,
				`test.yaml:2:31: log.format: invalid value "JSON": must be one of auto, json, text (did you mean "json"?)`,
				`test.yaml:4:23: kafka.topic.partitions: must be at least 1, got 0`,
				`test.yaml:4:46: kafka.topic.replication_factor: must be -1 (the broker's default) or from 1 to 32767, got 0`,
				`test.yaml:5:21: kafka.sasl.mechanism: invalid value "plain": must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (did you mean "PLAIN"?)`,
				`test.yaml:6:16: kafka.compression: invalid value "snapy": must be one of none, gzip, snappy, lz4, zstd (did you mean "snappy"?)`,
				`test.yaml:9:11: sources[0].type: invalid value "postgress": must be one of postgres, mysql (did you mean "postgres"?)`,
				`test.yaml:14:15: sources[1].snapshot: invalid value "inital": must be one of initial, never, initial_only, when_needed (did you mean "initial"?)`,
				"test.yaml:15:14: sources[1].tables[0]: invalid regular expression: missing closing ): `public.(orders`",
				`test.yaml:15:32: sources[1].tables[1]: "customers" can never match: tables are matched by their full name, schema.table (e.g. public.customers)`,
				`test.yaml:17:25: sources[1].heartbeat.interval: must not be negative`,
				`test.yaml:18:21: sources[1].max_batch_size: must be at least 1, got 0`,
				`test.yaml:19:16: sources[1].slot_name: invalid replication slot name "Bad-Slot": use at most 63 lower-case letters, digits and '_'`,
				"test.yaml:23:14: sinks[0].topics[0]: invalid regular expression: missing closing ]: `[`",
				`test.yaml:24:12: sinks[0].urls[0]: URL scheme must be http or https`,
				`test.yaml:25:30: sinks[0].behavior.on.null.values: invalid value "skip": must be one of delete, ignore, fail`,
				`test.yaml:26:26: sinks[0].bulk.flush_interval: must not be negative`,
			},
		},
		{
			name: "DSN schemes",
			doc: `sources:
  - name: a
    type: postgres
    dsn: mysql://u:secret@h/db
  - name: b
    type: mysql
    dsn: postgres://u:secret@h/db
  - name: c
    type: mysql
    dsn: u:secret@tcp(h:3306)/db
  - name: d
    type: postgres
    dsn: host=h password=secret
  - name: e
    type: postgres
    dsn: "postgres://u:se%zzcret@h/db"
sinks:
  - name: s1
    type: sql
    topics: [t]
    dsn: oracle://u:secret@h/db
  - name: s2
    type: sql
    topics: [t]
    dsn: "sqlite://"
`,
			want: []string{
				`test.yaml:4:10: sources[0].dsn: scheme "mysql" is not valid for a postgres source: want postgres://, postgresql:// or key=value pairs`,
				`test.yaml:7:10: sources[1].dsn: scheme "postgres" is not valid for a mysql source: want mysql://`,
				`test.yaml:10:10: sources[2].dsn: not a valid DSN for a mysql source: want mysql://`,
				`test.yaml:16:10: sources[4].dsn: cannot parse the DSN as a URL (are special characters in the user name or password percent-encoded?)`,
				`test.yaml:21:10: sinks[0].dsn: scheme "oracle" is not valid for a sql sink: want postgres://, postgresql://, mysql://, sqlite://`,
				`test.yaml:25:10: sinks[1].dsn: sqlite DSN needs a file path (sqlite:///path/to/file.db)`,
			},
		},
		{
			name: "cross-field rules",
			doc: `kafka:
  sasl: {username: u}
  tls: {ca_file: ca.pem, cert_file: c.pem}
sources:
` + pgSource + `    heartbeat.action.query: select 1
sinks:
  - name: e
    type: elasticsearch
    topics: [t]
    urls: [http://x]
    errors.deadletterqueue.topic.name: dlq
    username: u
    api_key: k
    tls: {key_file: k.pem}
`,
			want: []string{
				`test.yaml:2:9: kafka.sasl: missing required key "mechanism"`,
				`test.yaml:2:9: kafka.sasl: missing required key "password"`,
				`test.yaml:3:9: kafka.tls.ca_file: has no effect unless kafka.tls.enabled is true`,
				`test.yaml:3:26: kafka.tls.cert_file: has no effect unless kafka.tls.enabled is true`,
				`test.yaml:3:37: kafka.tls.cert_file: needs key_file too`,
				`test.yaml:8:29: sources[0].heartbeat.action.query: needs heartbeat.interval greater than 0`,
				`test.yaml:10:5: sinks[0]: missing required key "password"`,
				`test.yaml:14:40: sinks[0].errors.deadletterqueue.topic.name: is only used with errors.tolerance: all`,
				`test.yaml:16:14: sinks[0].api_key: use either api_key or username and password, not both`,
				`test.yaml:17:21: sinks[0].tls.key_file: needs cert_file too`,
			},
		},
		{
			name: "transforms",
			doc: `sources:
` + pgSource + `    transforms:
      - foo: bar
      - 3
      - type: ""
`,
			want: []string{
				`test.yaml:6:9: sources[0].transforms[0]: missing required key "type"`,
				`test.yaml:7:9: sources[0].transforms[1]: expected a mapping with a type key, got "3"`,
				`test.yaml:8:15: sources[0].transforms[2].type: must not be empty`,
			},
		},
		{
			name: "a decode error does not also report the value as missing",
			doc: `sources:
  - name: a
    type: postgres
    dsn: [x]
`,
			want: []string{`test.yaml:4:10: sources[0].dsn: expected a string, got a list`},
		},
		{
			name: "yaml syntax error",
			doc:  "a: [\n",
			want: []string{`test.yaml:1: did not find expected node content`},
		},
		{
			name: "several documents",
			doc:  "a: 1\n---\nb: 2\n",
			want: []string{`test.yaml:2:1: the file holds more than one YAML document; put everything in one`},
		},
		{
			name: "top level is not a mapping",
			doc:  "- 1\n",
			want: []string{`test.yaml:1:1: expected a mapping at the top level, got a list`},
		},
		{
			name: "keys must be strings",
			doc:  "? [a]\n: 1\n",
			want: []string{`test.yaml:1:3: keys must be strings, got a list`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrs(t, tt.doc, tt.want) })
	}
}

func TestInterpolationErrors(t *testing.T) {
	t.Setenv("SLUICE_TEST_UNSET_CHECK", "")
	os.Unsetenv("SLUICE_TEST_UNSET_CHECK")
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	doc := `state_dir: ${SLUICE_TEST_UNSET_CHECK}
api:
  token_file: "${file:` + missing + `}"
sources:
  - name: a
    type: postgres
    dsn: "postgres://u:${1}@h/db"
    snapshot: ${SLUICE_TEST_UNSET_CHECK
`
	checkErrs(t, doc, []string{
		`test.yaml:1:12: state_dir: environment variable SLUICE_TEST_UNSET_CHECK is not set (give a default with ${SLUICE_TEST_UNSET_CHECK:-default})`,
		`test.yaml:3:15: api.token_file: cannot read file ` + missing + `: no such file or directory`,
		`test.yaml:7:10: sources[0].dsn: invalid reference ${1}: want ${NAME}, ${NAME:-default} or ${file:/path} (write $$ for a literal $)`,
		`test.yaml:8:15: sources[0].snapshot: unterminated "${SLUICE_TEST_UNSET_CHECK" (write $$ for a literal $)`,
	})
}

func TestErrorsAreSortedAndUnwrap(t *testing.T) {
	doc := `sources:
  - name: a
    type: postgres
    dsn: postgres://h/db
    zzz: 1
aaa: 2
`
	_, err := Parse("f.yaml", []byte(doc))
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("got %v", err)
	}
	if es[0].Line != 5 || es[1].Line != 6 {
		t.Errorf("not sorted by line: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Key != "sources[0].zzz" || e.File != "f.yaml" || e.Column != 5 {
		t.Errorf("errors.As(*Error) = %+v", e)
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "q.yaml", Line: 12, Column: 5, Key: "sources[0].snapshott", Msg: "unknown key"}, "q.yaml:12:5: sources[0].snapshott: unknown key"},
		{Error{File: "q.yaml", Line: 3, Msg: "bad"}, "q.yaml:3: bad"},
		{Error{Key: "sources[0].dsn", Msg: "must not be empty"}, "sources[0].dsn: must not be empty"},
		{Error{Msg: "bad"}, "bad"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func TestValidateProgrammatic(t *testing.T) {
	c := &Config{
		Sources: []Source{{Name: "a", Type: SourcePostgres, DSN: "postgres://h/db", ServerID: 7}},
		Sinks:   []Sink{{Name: "a", Type: SinkSQL, Topics: []string{"t"}}},
	}
	c.ApplyDefaults()
	err := c.Validate()
	want := strings.Join([]string{
		`sources[0].server_id: only valid for type mysql (this source is postgres)`,
		`sinks[0].name: duplicate connector name "a" (first used by sources[0])`,
		`sinks[0]: missing required key "dsn"`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
