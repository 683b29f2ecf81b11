package transforms

import (
	"regexp"
	"sort"

	"github.com/sluice-cdc/sluice/change"
)

// Predicate types, after Kafka Connect's TopicNameMatches,
// RecordIsTombstone and HasHeaderKey.
const (
	PredicateTopicMatches = "topic_matches"
	PredicateIsTombstone  = "is_tombstone"
	PredicateHasHeaderKey = "has_header_key"
)

// predicate reads the entry's "predicate" and "negate" keys. The transform
// applies to an event when pred(e) != negate; a nil pred applies always.
func (o *options) predicate() (pred func(*change.Event) bool, negate bool) {
	negate = o.boolean("negate", false)
	v, ok := o.get("predicate")
	if !ok {
		if negate {
			o.errorf("negate", "negate needs a predicate")
		}
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		o.errorf("predicate", "want a mapping such as {type: topic_matches, pattern: \"...\"}, got %s", kindOf(v))
		return nil, false
	}
	typ, _ := m["type"].(string)
	known := map[string][]string{
		PredicateTopicMatches: {"type", "pattern"},
		PredicateIsTombstone:  {"type"},
		PredicateHasHeaderKey: {"type", "name"},
	}
	keys, ok := known[typ]
	if !ok {
		o.errorf("predicate.type", "%q is not a predicate type: want %s, %s or %s", typ, PredicateTopicMatches, PredicateIsTombstone, PredicateHasHeaderKey)
		return nil, false
	}
	var extra []string
	for k := range m {
		valid := false
		for _, kk := range keys {
			valid = valid || k == kk
		}
		if !valid {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		o.errorf("predicate."+k, "unknown key %q for predicate %s", k, typ)
	}
	switch typ {
	case PredicateTopicMatches:
		pat, _ := m["pattern"].(string)
		if pat == "" {
			o.errorf("predicate.pattern", "topic_matches needs a pattern (a regex matched against the whole topic name)")
			return nil, false
		}
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil {
			o.errorf("predicate.pattern", "%v", err)
			return nil, false
		}
		return func(e *change.Event) bool { return re.MatchString(e.Topic) }, negate
	case PredicateIsTombstone:
		return func(e *change.Event) bool { return e.Tombstone }, negate
	default:
		name, _ := m["name"].(string)
		if name == "" {
			o.errorf("predicate.name", "has_header_key needs the header name")
			return nil, false
		}
		return func(e *change.Event) bool {
			for _, h := range e.Headers {
				if h.Key == name {
					return true
				}
			}
			return false
		}, negate
	}
}
