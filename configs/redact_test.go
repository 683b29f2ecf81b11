package configs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRedactDSN(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://u:pw@h:5432/db", "postgres://u:*****@h:5432/db"},
		{"postgresql://u:p%40ss@h/db?sslmode=require", "postgresql://u:*****@h/db?sslmode=require"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db", "postgres://h/db"},
		{"postgres://u:p@ss/w@h/db", "postgres://u:*****@h/db"}, // unencoded @ and / in the password
		{"postgres://h/db?user=u&password=pw&sslmode=disable", "postgres://h/db?user=u&password=*****&sslmode=disable"},
		{"postgres://u:a@h/db?sslpassword=k#frag", "postgres://u:*****@h/db?sslpassword=*****#frag"},
		{"mysql://app:s3cret@replica:3306/reporting", "mysql://app:*****@replica:3306/reporting"},
		{"sqlite:///tmp/a@b.db", "sqlite:///tmp/a@b.db"},
		{"https://elastic:changeme@es:9200", "https://elastic:*****@es:9200"},
		{"host=h user=u password=pw dbname=d", "host=h user=u password=***** dbname=d"},
		{"host=h password='p w\\' x' dbname=d", "host=h password=***** dbname=d"},
		{"host=h PASSWORD = pw", "host=h PASSWORD = *****"},
		{"host=h password= dbname=d", "host=h password= *****"}, // libpq skips spaces after =
		{"host=h password='' dbname=d", "host=h password=***** dbname=d"},
		{"u:pw@tcp(h:3306)/db", "u:*****@tcp(h:3306)/db"},
		{"", ""},
	} {
		if got := RedactDSN(tt.in); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Setenv("SLUICE_T_PG", "pg-SECRET-01")
	doc := `kafka:
  brokers: [k:9092]
  sasl: {mechanism: PLAIN, username: u, password: kafka-SECRET-02}
  topic:
    configs:
      sasl.jaas.config: "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"jaas-SECRET-03\";"
      cleanup.policy: compact
sources:
  - name: pg
    type: postgres
    dsn: postgres://sluice:${SLUICE_T_PG}@h/db
    transforms:
      - type: lookup
        db_password: opt-SECRET-04
        url: postgres://x:opt-SECRET-05@h/db
        nested: {token: opt-SECRET-06}
  - name: pgkv
    type: postgres
    dsn: "host=h user=u password=kv-SECRET-07 dbname=d"
sinks:
  - name: es
    type: elasticsearch
    topics: [t]
    urls: ["https://elastic:url-SECRET-08@es:9200"]
    username: elastic
    password: es-SECRET-09
  - name: es2
    type: elasticsearch
    topics: [t]
    urls: [https://es:9200]
    api_key: key-SECRET-010
  - name: db
    type: sql
    topics: [t]
    dsn: mysql://app:sql-SECRET-011@replica:3306/reporting
`
	c := mustParse(t, doc)
	yamlOut, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jsonOut, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(jsonOut) {
		t.Fatalf("invalid JSON: %s", jsonOut)
	}
	outputs := map[string]string{
		"String":            c.String(),
		"yaml.Marshal":      string(yamlOut),
		"json.Marshal":      string(jsonOut),
		"%v":                fmt.Sprintf("%v", c),
		"%+v":               fmt.Sprintf("%+v", *c),
		"%#v":               fmt.Sprintf("%#v", c),
		"Redacted %#v":      fmt.Sprintf("%#v", *c.Redacted()),
		"source %v":         fmt.Sprintf("%v %+v %#v", c.Sources[0], c.Sources[1], c.Sources[0]),
		"sink %v":           fmt.Sprintf("%v %+v %#v %v", c.Sinks[0], c.Sinks[1], c.Sinks[2], &c.Sinks[0]),
		"kafka %v":          fmt.Sprintf("%v %+v %#v %v", c.Kafka, c.Kafka.SASL, c.Kafka, c.Kafka.SASL),
		"source json":       mustJSON(t, c.Sources),
		"sink json":         mustJSON(t, c.Sinks),
		"kafka json":        mustJSON(t, c.Kafka),
		"source yaml":       mustYAML(t, c.Sources),
		"sink yaml":         mustYAML(t, c.Sinks),
		"kafka yaml":        mustYAML(t, c.Kafka),
		"config field %+v":  fmt.Sprintf("%+v", struct{ C Config }{*c}),
		"redacted fields":   fmt.Sprint(c.Redacted().Sources[0].DSN, c.Redacted().Kafka.SASL.Password, c.Redacted().Sinks[1].APIKey),
		"redacted %+v deep": fmt.Sprintf("%+v", c.Redacted().Sources[0].Transforms),
	}
	for name, out := range outputs {
		for i := 1; i <= 11; i++ {
			if secret := fmt.Sprintf("SECRET-%02d", i); strings.Contains(out, secret) {
				t.Errorf("%s leaks %s:\n%s", name, secret, out)
			}
		}
	}
	s := c.String()
	for _, want := range []string{
		"dsn: postgres://sluice:*****@h/db",
		"dsn: host=h user=u password=***** dbname=d",
		"password: '*****'",
		"api_key: '*****'",
		"urls: ['https://elastic:*****@es:9200']",
		"dsn: mysql://app:*****@replica:3306/reporting",
		"sasl.jaas.config: '*****'",
		"cleanup.policy: compact",
		"db_password: '*****'",
		"url: postgres://x:*****@h/db",
		"token: '*****'",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
	// The original is untouched.
	if c.Kafka.SASL.Password != "kafka-SECRET-02" || c.Sources[0].DSN != "postgres://sluice:pg-SECRET-01@h/db" ||
		c.Sources[0].Transforms[0].Options["db_password"] != "opt-SECRET-04" ||
		c.Sources[0].Transforms[0].Options["nested"].(map[string]any)["token"] != "opt-SECRET-06" ||
		c.Kafka.Topic.Configs["sasl.jaas.config"] == RedactedValue || c.Sinks[0].URLs[0] != "https://elastic:url-SECRET-08@es:9200" {
		t.Errorf("Redacted modified the original: %q %q %v", c.Kafka.SASL.Password, c.Sources[0].DSN, c.Sources[0].Transforms[0].Options)
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	doc := `sources:
  - name: a
    type: mysql
    dsn: postgres://u:err-SECRET@h/db
  - name: b
    type: postgres
    dsn: "postgres://u:err-SECRET%zz@h/db"
sinks:
  - name: c
    type: elasticsearch
    topics: [t]
    urls: ["ftp://u:err-SECRET@h", "http://u:err-SECRET%zz@h"]
`
	_, err := Parse("t.yaml", []byte(doc))
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error leaks a secret or is nil:\n%v", err)
	}
}

func mustJSON(t *testing.T, x any) string {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustYAML(t *testing.T, x any) string {
	t.Helper()
	b, err := yaml.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
