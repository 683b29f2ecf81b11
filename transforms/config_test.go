package transforms_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/transforms"
)

func TestValidateNamesTheTransformAndKey(t *testing.T) {
	yaml := `kafka: {listen: 127.0.0.1:0}
sources:
  - name: inv
    type: postgres
    dsn: postgres://u@localhost/inv
    transforms:
      - type: unwrap
        delete_handling: rewrit
      - type: route
        regex: "orders_(\\d+"
        replacement: orders
      - type: mask
        fields: [email]
        hash: true
      - type: filtr
      - type: filter
        condition: "after.qty >"
      - type: unwrap
        drop_tombstone: false
      - type: mask
        fields: [email]
        predicate: {type: topic_matches}
sinks:
  - name: search
    type: sql
    dsn: sqlite:///tmp/x.db
    topics: [a]
    transforms:
      - type: cast
        spec: {qty: int128}
`
	cfg, err := configs.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	err = transforms.Validate(cfg)
	var es configs.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want configs.Errors, got %v", err)
	}
	want := []string{
		`test.yaml:7:9: sources[0].transforms[0].delete_handling: "rewrit" is not valid: want one of drop, rewrite, none`,
		`test.yaml:9:9: sources[0].transforms[1].regex: error parsing regexp`,
		`test.yaml:12:9: sources[0].transforms[2].salt: hash: true needs a salt`,
		`test.yaml:15:9: sources[0].transforms[3].type: unknown transform type "filtr" (did you mean "filter"?)`,
		`test.yaml:16:9: sources[0].transforms[4].condition: unexpected token EOF`,
		`test.yaml:18:9: sources[0].transforms[5].drop_tombstone: unknown key "drop_tombstone" for transform unwrap (did you mean "drop_tombstones"?)`,
		`test.yaml:20:9: sources[0].transforms[6].predicate.pattern: topic_matches needs a pattern`,
		`test.yaml:29:9: sinks[0].transforms[0].spec.qty: cannot cast to "int128"`,
	}
	got := err.Error()
	lines := strings.Split(got, "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(lines), len(want), got)
	}
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d:\n got %s\nwant %s...", i, lines[min(i, len(lines)-1)], w)
		}
	}
}

func TestCompileEmpty(t *testing.T) {
	c, err := transforms.Compile(nil)
	if err != nil || c.Len() != 0 {
		t.Fatalf("empty chain: %v %v", c, err)
	}
	var nilChain *transforms.Chain
	if keep, err := nilChain.Apply(nil); !keep || err != nil {
		t.Errorf("nil chain: %v %v", keep, err)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		t    configs.Transform
		want string
	}{
		{tf("unwrap", "negate", true), "x.negate: negate needs a predicate"},
		{tf("route", "regex", "a"), "x.replacement: route needs replacement"},
		{tf("route", "regex", "a", "replacement", "b", "key_field_name", "k"), "x.key_enforce_uniqueness: key_field_name and key_field_regex need key_enforce_uniqueness: true"},
		{tf("mask", "fields", "a", "hash", true, "salt", "s", "replacement", "r"), "x.replacement: replacement and hash: true exclude each other"},
		{tf("mask"), "x: mask needs fields"},
		{tf("cast"), "x: cast needs spec"},
		{tf("fields"), "x: fields needs include, exclude or rename"},
		{tf("insert", "fields", map[string]any{"a": []any{1}}), "x.fields.a: want a string, number or boolean, got a list"},
		{tf("outbox", "table_fields_additional_placement", "col:envelope"), `x.table_fields_additional_placement[0]: "col:envelope": want column:header`},
		{tf("outbox", "route_topic_regex", "("), "x.route_topic_regex: error parsing regexp"},
		{tf("timestamp_convert", "field", "f", "target_type", "string"), "x.format: target_type string needs a format"},
		{tf("timestamp_convert", "field", "f", "target_type", "unix", "format", "yyyy-QQ"), `x.format: format "yyyy-QQ": pattern letter "Q" is not supported`},
		{tf("filter", "condition", "nosuchvar > 1"), "x.condition: unknown name nosuchvar"},
		{tf("unwrap", "add_fields", "op,nosuch"), `x.add_fields[1]: unknown field "nosuch"`},
		{tf("unwrap", "predicate", map[string]any{"type": "is_tombstone", "pattern": "x"}), `x.predicate.pattern: unknown key "pattern" for predicate is_tombstone`},
		{tf("unwrap", "predicate", "topic"), "x.predicate: want a mapping"},
		{tf("unwrap", "drop_tombstones", "maybe"), "x.drop_tombstones: want true or false"},
	} {
		tc.t.Key = "x"
		_, err := transforms.Compile([]configs.Transform{tc.t})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s %v:\n got %v\nwant %s...", tc.t.Type, tc.t.Options, err, tc.want)
		}
	}
}
