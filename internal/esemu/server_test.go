package esemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// ignored are response fields whose values differ run to run (or between
// the documentation's cluster and the emulator); they must be present, but
// their values are not compared.
var ignored = map[string]bool{
	"took": true, "_seq_no": true, "_primary_term": true, "index_uuid": true,
	"name": true, "cluster_name": true, "cluster_uuid": true, "build_date": true, "build_hash": true,
	"number": true, "lucene_version": true,
	"reason": true, // compared separately where the text matters
}

func do(t *testing.T, method, url, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func golden(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

// sameShape compares want (from the docs) with got: same keys everywhere,
// equal values except for ignored keys.
func sameShape(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want object, got %v", path, got)}
		}
		var diffs []string
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case !wok:
				diffs = append(diffs, fmt.Sprintf("%s.%s: unexpected (got %v)", path, k, gv))
			case !gok:
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing (want %v)", path, k, wv))
			case ignored[k]:
			default:
				diffs = append(diffs, sameShape(path+"."+k, wv, gv)...)
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d elements, got %v", path, len(w), got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, sameShape(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
	}
	return nil
}

func checkShape(t *testing.T, goldenName string, got []byte) {
	t.Helper()
	for _, d := range sameShape("$", golden(t, goldenName), decode(t, got)) {
		t.Error(d)
	}
}

func readGolden(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGoldenElasticsearch(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	code, hdr, body := do(t, "GET", s.URL+"/", "")
	if code != 200 || hdr.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("GET / = %d, X-Elastic-Product %q", code, hdr.Get("X-Elastic-Product"))
	}
	checkShape(t, "es_root.json", body)

	code, _, body = do(t, "POST", s.URL+"/_bulk", readGolden(t, "es_bulk_request.ndjson"))
	if code != 200 {
		t.Fatalf("bulk = %d %s", code, body)
	}
	checkShape(t, "es_bulk_response.json", body)

	code, _, body = do(t, "PUT", s.URL+"/my-index-000001", `{}`)
	if code != 200 {
		t.Fatalf("create = %d %s", code, body)
	}
	code, _, body = do(t, "PUT", s.URL+"/my-index-000001", `{}`)
	if code != 400 {
		t.Fatalf("second create = %d %s", code, body)
	}
	checkShape(t, "es_create_exists.json", body)

	do(t, "PUT", s.URL+"/my-index-000001/_doc/1?version=2&version_type=external", `{"a":1}`)
	code, _, body = do(t, "PUT", s.URL+"/my-index-000001/_doc/1?version=1&version_type=external", `{"a":0}`)
	if code != 409 {
		t.Fatalf("older external version = %d %s", code, body)
	}
	checkShape(t, "es_version_conflict.json", body)
	want := golden(t, "es_version_conflict.json").(map[string]any)["error"].(map[string]any)["reason"]
	if got := decode(t, body).(map[string]any)["error"].(map[string]any)["reason"]; got != want {
		t.Errorf("conflict reason = %v, want %v", got, want)
	}

	do(t, "PUT", s.URL+"/my-index-000001/_doc/0", `{"message": "GET /search HTTP/1.1 200 1070000", "user": {"id": "kimchy"}}`)
	code, _, body = do(t, "GET", s.URL+"/my-index-000001/_doc/0", "")
	if code != 200 {
		t.Fatalf("get = %d %s", code, body)
	}
	checkShape(t, "es_get_doc.json", body)
}

func TestGoldenElasticsearch7(t *testing.T) {
	s := New(Options{Version: "7.17.22"})
	defer s.Close()
	_, _, body := do(t, "POST", s.URL+"/_bulk", readGolden(t, "es_bulk_request.ndjson"))
	checkShape(t, "es7_bulk_response.json", body)
}

func TestGoldenOpenSearch(t *testing.T) {
	s := New(Options{Flavor: OpenSearch})
	defer s.Close()
	code, hdr, body := do(t, "GET", s.URL+"/", "")
	if code != 200 || hdr.Get("X-Elastic-Product") != "" {
		t.Fatalf("GET / = %d, X-Elastic-Product %q", code, hdr.Get("X-Elastic-Product"))
	}
	checkShape(t, "os_root.json", body)
	// The documentation's example runs against an index where
	// tt1392214 already exists.
	do(t, "PUT", s.URL+"/movies/_doc/tt1392214", `{"title": "Prisoners", "year": 2013}`)
	code, _, body = do(t, "POST", s.URL+"/_bulk", readGolden(t, "os_bulk_request.ndjson"))
	if code != 200 {
		t.Fatalf("bulk = %d %s", code, body)
	}
	checkShape(t, "os_bulk_response.json", body)
	items := decode(t, body).(map[string]any)["items"].([]any)
	reason := items[1].(map[string]any)["create"].(map[string]any)["error"].(map[string]any)["reason"]
	if reason != "[tt1392214]: version conflict, document already exists (current version [1])" {
		t.Errorf("create conflict reason = %v", reason)
	}
}

type bulkItem struct {
	Status  int    `json:"status"`
	Result  string `json:"result"`
	Version int64  `json:"_version"`
	Error   *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

func bulk(t *testing.T, s *Server, lines ...string) []bulkItem {
	t.Helper()
	code, _, body := do(t, "POST", s.URL+"/_bulk", strings.Join(lines, "\n")+"\n")
	if code != 200 {
		t.Fatalf("bulk = %d %s", code, body)
	}
	var resp struct {
		Items []map[string]bulkItem `json:"items"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	out := make([]bulkItem, len(resp.Items))
	for i, it := range resp.Items {
		for _, v := range it {
			out[i] = v
		}
	}
	return out
}

func idx(id string, v int64) string {
	return fmt.Sprintf(`{"index":{"_index":"t","_id":%q,"version":%d,"version_type":"external"}}`, id, v)
}

func del(id string, v int64) string {
	return fmt.Sprintf(`{"delete":{"_index":"t","_id":%q,"version":%d,"version_type":"external"}}`, id, v)
}

func statuses(items []bulkItem) []int {
	out := make([]int, len(items))
	for i, it := range items {
		out[i] = it.Status
	}
	return out
}

func TestExternalVersioning(t *testing.T) {
	s := New(Options{GCDeletes: 300 * time.Millisecond})
	defer s.Close()
	items := bulk(t, s,
		idx("a", 5), `{"n":1}`,
		idx("a", 5), `{"n":2}`, // equal: conflict
		idx("a", 3), `{"n":3}`, // older: conflict
		idx("a", 7), `{"n":4}`,
		del("a", 6),            // older delete: conflict
		del("b", 2),            // missing: not_found, tombstone at 2
		idx("b", 1), `{"n":5}`, // older than the tombstone: conflict
		del("a", 9),
		idx("a", 8), `{"n":6}`, // older than the tombstone: conflict
	)
	if got, want := statuses(items), []int{201, 409, 409, 200, 409, 404, 409, 200, 409}; !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses = %v, want %v", got, want)
	}
	if items[1].Error.Type != "version_conflict_engine_exception" || items[5].Result != "not_found" || items[7].Result != "deleted" {
		t.Errorf("items = %+v", items)
	}
	if _, _, ok := s.Doc("t", "a"); ok {
		t.Error("a should be deleted")
	}
	if it := bulk(t, s, `{"create":{"_index":"t","_id":"c","version":1,"version_type":"external"}}`, `{}`)[0]; it.Status != 400 || it.Error.Type != "action_request_validation_exception" {
		t.Errorf("create with an external version = %+v", it)
	}
	if err := s.CheckVersions(); err != nil {
		t.Error(err)
	}
	// After index.gc_deletes the tombstone is gone: an older version is
	// accepted again, as documented, and the write log shows it.
	time.Sleep(400 * time.Millisecond)
	items = bulk(t, s, idx("a", 8), `{"n":7}`)
	if items[0].Status != 201 {
		t.Fatalf("after gc_deletes: %+v", items[0])
	}
	if err := s.CheckVersions(); err == nil {
		t.Error("CheckVersions: want a violation after the tombstone expired")
	}
}

func TestMappings(t *testing.T) {
	for _, tc := range []struct {
		opts    Options
		errType string
	}{
		{Options{Version: "8.7.1"}, "mapper_parsing_exception"},
		{Options{}, "document_parsing_exception"},
		{Options{Flavor: OpenSearch}, "mapper_parsing_exception"},
	} {
		s := New(tc.opts)
		code, _, body := do(t, "PUT", s.URL+"/t", `{"mappings":{"properties":{"qty":{"type":"long"},"price":{"type":"scaled_float","scaling_factor":100},"at":{"type":"date"}}}}`)
		if code != 200 {
			t.Fatalf("create: %d %s", code, body)
		}
		items := bulk(t, s,
			idx("1", 1), `{"qty":"12","price":1.25,"at":"2024-01-02T03:04:05.123456Z","name":"x","tags":["a"],"obj":{"k":1}}`,
			idx("2", 1), `{"qty":"abc"}`,
			idx("3", 1), `{"at":"yesterday"}`,
			idx("4", 1), `{"name":{"nested":true}}`,
			idx("5", 1), `{"obj":5}`,
			idx("6", 1), `{"obj":{"k":"not a number"}}`,
			idx("7", 1), `not json`,
		)
		if got, want := statuses(items), []int{201, 400, 400, 400, 400, 400, 400}; !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v: statuses = %v, want %v (%+v)", tc.opts, got, want, items)
		}
		if items[1].Error.Type != tc.errType || !strings.Contains(items[1].Error.Reason, "failed to parse field [qty] of type [long] in document with id '2'") {
			t.Errorf("%+v: type clash error = %+v", tc.opts, items[1].Error)
		}
		if !strings.Contains(items[4].Error.Reason, "object mapping for [obj] tried to parse field [obj] as object, but found a concrete value") {
			t.Errorf("object clash error = %+v", items[4].Error)
		}
		m := s.Mapping("t")["properties"].(map[string]any)
		if m["name"].(map[string]any)["type"] != "text" || m["obj"].(map[string]any)["properties"].(map[string]any)["k"].(map[string]any)["type"] != "long" {
			t.Errorf("dynamic mapping = %v", m)
		}
		s.Close()
	}
}

func TestIndexTemplateAndCount(t *testing.T) {
	s := New(Options{RefreshInterval: -1})
	defer s.Close()
	code, _, body := do(t, "PUT", s.URL+"/_index_template/tpl", `{"index_patterns":["logs-*"],"priority":5,"template":{"mappings":{"properties":{"code":{"type":"keyword"}}}}}`)
	if code != 200 {
		t.Fatalf("template: %d %s", code, body)
	}
	bulk(t, s, `{"index":{"_index":"logs-1","_id":"1"}}`, `{"code":404}`, `{"index":{"_index":"logs-1","_id":"2"}}`, `{"code":"x"}`)
	if got := s.Mapping("logs-1")["properties"].(map[string]any)["code"].(map[string]any)["type"]; got != "keyword" {
		t.Errorf("template mapping not applied: %v", got)
	}
	_, _, body = do(t, "GET", s.URL+"/logs-1/_count", "")
	if !strings.Contains(string(body), `"count":0`) {
		t.Errorf("count before refresh = %s", body)
	}
	do(t, "POST", s.URL+"/logs-1/_refresh", "")
	_, _, body = do(t, "GET", s.URL+"/logs-1/_count", "")
	if !strings.Contains(string(body), `"count":2`) {
		t.Errorf("count after refresh = %s", body)
	}
	if code, _, _ := do(t, "HEAD", s.URL+"/logs-1", ""); code != 200 {
		t.Errorf("HEAD existing = %d", code)
	}
	if code, _, _ := do(t, "HEAD", s.URL+"/nope", ""); code != 404 {
		t.Errorf("HEAD missing = %d", code)
	}
	items := bulk(t, s, `{"delete":{"_index":"nope","_id":"1"}}`)
	if items[0].Status != 404 || items[0].Error.Type != "index_not_found_exception" {
		t.Errorf("delete in a missing index = %+v", items[0])
	}
}

func TestAuthAndFaults(t *testing.T) {
	s := New(Options{Username: "u", Password: "p", APIKey: "k"})
	defer s.Close()
	if code, _, _ := do(t, "GET", s.URL+"/", ""); code != 401 {
		t.Errorf("no credentials = %d", code)
	}
	if code, _, _ := do(t, "GET", s.URL+"/", "", "Authorization", "ApiKey k"); code != 200 {
		t.Errorf("api key = %d", code)
	}
	req, _ := http.NewRequest("GET", s.URL+"/", nil)
	req.SetBasicAuth("u", "p")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("basic auth = %v %v", resp, err)
	}
	resp.Body.Close()

	auth := []string{"Authorization", "ApiKey k"}
	s.SetFaults(Faults{Status429: 1, RetryAfter: "2"})
	code, hdr, _ := do(t, "POST", s.URL+"/_bulk", idx("1", 1)+"\n{}\n", auth...)
	if code != 429 || hdr.Get("Retry-After") != "2" {
		t.Errorf("429 fault = %d, Retry-After %q", code, hdr.Get("Retry-After"))
	}
	s.SetFaults(Faults{Status503: 1})
	if code, _, _ := do(t, "POST", s.URL+"/_bulk", idx("1", 1)+"\n{}\n", auth...); code != 503 {
		t.Errorf("503 fault = %d", code)
	}
	s.SetFaults(Faults{DropAfter: 1})
	req, _ = http.NewRequest("POST", s.URL+"/_bulk", strings.NewReader(idx("1", 1)+"\n{}\n"))
	req.Header.Set("Authorization", "ApiKey k")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("dropped connection: got a response %d", resp.StatusCode)
	}
	if _, v, ok := s.Doc("t", "1"); !ok || v != 1 {
		t.Errorf("DropAfter must apply the request first: doc %v %v", v, ok)
	}
	s.SetFaults(Faults{Item429: 1})
	code, _, body := do(t, "POST", s.URL+"/_bulk", idx("2", 1)+"\n{}\n", auth...)
	if code != 200 || !strings.Contains(string(body), "es_rejected_execution_exception") || !strings.Contains(string(body), `"status":429`) {
		t.Errorf("item 429 = %d %s", code, body)
	}
	st := s.Stats()
	if st.Injected429 != 1 || st.Injected503 != 1 || st.DroppedAfter != 1 || st.InjectedItem429 != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBulkMalformed(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	code, _, body := do(t, "POST", s.URL+"/_bulk", `{"index":{"_index":"t"}}`+"\n"+`{}`)
	if code != 400 || !strings.Contains(string(body), "must be terminated by a newline") {
		t.Errorf("no trailing newline = %d %s", code, body)
	}
	code, _, body = do(t, "POST", s.URL+"/_bulk", "\"x\"\n")
	if code != 400 || !strings.Contains(string(body), "Malformed action/metadata line [1]") {
		t.Errorf("malformed action = %d %s", code, body)
	}
}
