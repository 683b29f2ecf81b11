package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/configs"
)

func TestElasticsearchSinkOptions(t *testing.T) {
	cfg, err := configs.Parse("t.yaml", []byte(`
sinks:
  - name: search
    type: elasticsearch
    topics: [a.b.c]
    urls: [http://es:9200]
    index: "${source.table}"
    api_key: k
    bulk: {max_actions: 10, max_bytes: 1000, flush_interval: 5ms}
    concurrency: 3
    behavior.on.null.values: ignore
`))
	if err != nil {
		t.Fatal(err)
	}
	o := ElasticsearchSinkOptions(&cfg.Sinks[0])
	if o.Index != "${source.table}" || o.APIKey != "k" || o.BulkMaxActions != 10 || o.BulkMaxBytes != 1000 ||
		o.Concurrency != 3 || o.BehaviorOnNullValues != "ignore" || !o.AutoCreate || time.Duration(cfg.Sinks[0].BulkFlushInterval) != 5*time.Millisecond {
		t.Errorf("options = %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	o.Index = "${nope}"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "index") {
		t.Errorf("Validate with a bad index template = %v, want an error naming index", err)
	}
	o.Index, o.IndexTemplateFile = "", "/nonexistent/template.json"
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "index_template") {
		t.Errorf("Validate with a missing template = %v, want an error naming index_template", err)
	}
}

func TestHasSchemaBlock(t *testing.T) {
	for v, want := range map[string]bool{
		`{"schema":{"type":"struct"},"payload":{}}`: true,
		` { "schema" : null}`:                       true,
		`{"id":1}`:                                  false,
		``:                                          false,
		`[1]`:                                       false,
	} {
		if got := hasSchemaBlock([]byte(v)); got != want {
			t.Errorf("hasSchemaBlock(%q) = %v", v, got)
		}
	}
}
