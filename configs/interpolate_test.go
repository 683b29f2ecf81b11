package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testInterpolator(env map[string]string, files map[string]string) *interpolator {
	return &interpolator{
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		readFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
		},
		dir: "/etc/sluice",
	}
}

func TestExpand(t *testing.T) {
	ip := testInterpolator(
		map[string]string{"PW": "s3cret", "EMPTY": "", "HOST": "db", "DOLLAR": "$x"},
		map[string]string{"/run/secrets/pw": "from-file\n", "/etc/sluice/rel": "rel\r\n", "/run/two": "a\n\n"},
	)
	for _, tt := range []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "${PW}", want: "s3cret"},
		{in: "postgres://u:${PW}@${HOST}:5432/db", want: "postgres://u:s3cret@db:5432/db"},
		{in: "${MISSING:-fallback}", want: "fallback"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${EMPTY}", want: ""},
		{in: "${PW:-fallback}", want: "s3cret"},
		{in: "${MISSING:-}", want: ""},
		{in: "${MISSING:-${HOST}:5432}", want: "db:5432"},
		{in: "${MISSING:-a:-b}", want: "a:-b"},
		{in: "${file:/run/secrets/pw}", want: "from-file"},
		{in: "${file:rel}", want: "rel"},
		{in: "${file:/run/two}", want: "a"},
		{in: "$${PW}", want: "${PW}"},
		{in: "cost: $$5", want: "cost: $5"},
		{in: "^public\\.orders$", want: "^public\\.orders$"},
		{in: "$1 and $x and $", want: "$1 and $x and $"},
		{in: "${DOLLAR}", want: "$x"}, // values are not expanded again
		{in: "${MISSING}", err: "environment variable MISSING is not set (give a default with ${MISSING:-default})"},
		{in: "${file:/nope}", err: "cannot read file /nope: file does not exist"},
		{in: "${file:}", err: "${file:} needs a path"},
		{in: "${1}", err: "invalid reference ${1}: want ${NAME}, ${NAME:-default} or ${file:/path} (write $$ for a literal $)"},
		{in: "${A B}", err: "invalid reference ${A B}: want ${NAME}, ${NAME:-default} or ${file:/path} (write $$ for a literal $)"},
		{in: "x${PW", err: `unterminated "${PW" (write $$ for a literal $)`},
	} {
		got, err := ip.expand(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestInterpolationInConfig(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "es-key")
	if err := os.WriteFile(secret, []byte("key-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("relpw"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_T_PARTS", "6")
	t.Setenv("SLUICE_T_EMPTY", "")
	t.Setenv("SLUICE_T_INJECT", "a\nsnapshot: never\n")
	t.Setenv("SLUICE_T_BOOL", "false")
	doc := `kafka:
  topic:
    partitions: ${SLUICE_T_PARTS}
    replication_factor: ${SLUICE_T_EMPTY}
  client_id: "${SLUICE_T_INJECT}"
  sasl: {mechanism: PLAIN, username: u, password: "${file:pw}"}
sources:
  - name: inv
    type: postgres
    dsn: postgres://u:p$$w@h/db
    tombstones.on.delete: ${SLUICE_T_BOOL}
    transforms:
      - type: route
        n: ${SLUICE_T_PARTS}
        quoted: "${SLUICE_T_PARTS}"
        nested: {list: ["${SLUICE_T_PARTS}", $$x]}
sinks:
  - name: es
    type: elasticsearch
    topics: [t]
    urls: http://a:9200, http://b:9200
    api_key: ${file:` + secret + `}
    index: "${topic}-${SLUICE_T_MISSING}"
  - name: db
    type: sql
    topics: [t]
    dsn: sqlite:///tmp/x.db
    table: "${source.table}_$${x}"
`
	c, err := Parse(filepath.Join(dir, "c.yaml"), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Kafka.Topic.Partitions; got != 6 {
		t.Errorf("partitions = %d, want 6", got)
	}
	if got := c.Kafka.Topic.ReplicationFactor; got != -1 {
		t.Errorf("empty replication_factor = %d, want the default -1", got)
	}
	if got := c.Kafka.ClientID; got != "a\nsnapshot: never\n" {
		t.Errorf("client_id = %q: an interpolated value must stay one string", got)
	}
	if c.Sources[0].Snapshot != "initial" {
		t.Errorf("snapshot = %q: interpolation injected YAML", c.Sources[0].Snapshot)
	}
	if got := c.Kafka.SASL.Password; got != "relpw" {
		t.Errorf("relative ${file:} = %q", got)
	}
	if got := c.Sources[0].DSN; got != "postgres://u:p$w@h/db" {
		t.Errorf("dsn = %q", got)
	}
	if c.Sources[0].TombstonesOnDelete {
		t.Error("tombstones.on.delete from env false is true")
	}
	opts := c.Sources[0].Transforms[0].Options
	if opts["n"] != 6 || opts["quoted"] != "6" {
		t.Errorf("transform options = %#v", opts)
	}
	nested := opts["nested"].(map[string]any)["list"].([]any)
	if nested[0] != "6" || nested[1] != "$x" {
		t.Errorf("nested options = %#v", nested)
	}
	es, db := c.Sinks[0], c.Sinks[1]
	if strings.Join(es.URLs, " ") != "http://a:9200 http://b:9200" {
		t.Errorf("urls = %q", es.URLs)
	}
	if es.APIKey != "key-from-file" {
		t.Errorf("api_key = %q", es.APIKey)
	}
	if es.Index != "${topic}-${SLUICE_T_MISSING}" {
		t.Errorf("index was interpolated: %q", es.Index)
	}
	if db.Table != "${source.table}_$${x}" {
		t.Errorf("table was interpolated: %q", db.Table)
	}
}
