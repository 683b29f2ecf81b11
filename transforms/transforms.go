package transforms

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/configs"
)

// Chain is a compiled list of transforms, applied in order. A Chain keeps
// per-schema caches, so it is used by one goroutine at a time (a
// connector's); compile one Chain per connector.
type Chain struct {
	steps []step
}

// step is one compiled transform with its optional predicate.
type step struct {
	typ    string
	key    string // "sources[0].transforms[1]"
	apply  func(e *change.Event) (keep bool, err error)
	pred   func(e *change.Event) bool
	negate bool
}

// Len is the number of transforms in the chain.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.steps)
}

// Apply runs e through the chain, editing it in place. It returns false
// when a transform dropped the event. An error is an *Error naming the
// transform and the event's position.
func (c *Chain) Apply(e *change.Event) (keep bool, err error) {
	if c == nil {
		return true, nil
	}
	for i := range c.steps {
		s := &c.steps[i]
		if s.pred != nil && s.pred(e) == s.negate {
			continue
		}
		keep, err := s.apply(e)
		if err != nil {
			return false, &Error{Transform: s.key, Type: s.typ, Topic: e.Topic, Position: Position(&e.Source), Err: err}
		}
		if !keep {
			return false, nil
		}
	}
	return true, nil
}

// Error is a transform failing on an event. It is permanent: the same
// event would fail again after a restart.
type Error struct {
	Transform string // "sources[0].transforms[1]"
	Type      string
	Topic     string
	Position  string // the event's source position; "" when unknown
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "transform %s (%s) on an event of %s", e.Transform, e.Type, e.Topic)
	if e.Position != "" {
		b.WriteString(" at ")
		b.WriteString(e.Position)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent tells the supervisor not to restart the connector: the same
// event would fail again.
func (e *Error) Permanent() bool { return true }

// Position describes a source position for error messages: the LSN and
// transaction of a Postgres event, the binlog file, position and row of a
// MySQL event; "" when the block is empty.
func Position(s *change.Source) string {
	switch {
	case s.LSN != 0:
		p := "lsn " + strconv.FormatInt(s.LSN, 10)
		if s.TxID != 0 {
			p += " (txId " + strconv.FormatInt(s.TxID, 10) + ")"
		}
		return p
	case s.File != "":
		p := fmt.Sprintf("binlog %s:%d row %d", s.File, s.Pos, s.Row)
		if s.GTID != "" {
			p += " (gtid " + s.GTID + ")"
		}
		return p
	}
	return ""
}

// builder compiles one transform type from its options.
type builder func(o *options) (func(e *change.Event) (bool, error), error)

var builders = map[string]builder{}

func register(typ string, b builder) { builders[typ] = b }

// Types returns the transform type names, sorted.
func Types() []string {
	out := make([]string, 0, len(builders))
	for k := range builders {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Compile compiles a transforms list. Problems are returned as
// configs.Errors, each located at the transform entry and naming its key
// (sources[0].transforms[1].fields).
func Compile(ts []configs.Transform) (*Chain, error) {
	c := &Chain{}
	var errs configs.Errors
	for _, t := range ts {
		o := &options{t: t}
		s := step{typ: t.Type, key: t.Key}
		b, ok := builders[t.Type]
		if !ok {
			msg := fmt.Sprintf("unknown transform type %q; valid types: %s", t.Type, strings.Join(Types(), ", "))
			if s := configs.Suggest(t.Type, Types()); s != "" {
				msg = fmt.Sprintf("unknown transform type %q (did you mean %q?)", t.Type, s)
			}
			o.errorf("type", "%s", msg)
			errs = append(errs, o.errs...)
			continue
		}
		s.pred, s.negate = o.predicate()
		apply, err := b(o)
		if err != nil && len(o.errs) == 0 {
			o.errorf("", "%v", err)
		}
		o.finish()
		if len(o.errs) > 0 {
			errs = append(errs, o.errs...)
			continue
		}
		s.apply = apply
		c.steps = append(c.steps, s)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Validate compiles every source's and sink's transforms and returns all
// problems as configs.Errors sorted by line, or nil.
func Validate(cfg *configs.Config) error {
	var errs configs.Errors
	collect := func(ts []configs.Transform) {
		if _, err := Compile(ts); err != nil {
			var es configs.Errors
			if errors.As(err, &es) {
				errs = append(errs, es...)
			} else {
				errs = append(errs, &configs.Error{Msg: err.Error()})
			}
		}
	}
	for _, s := range cfg.Sources {
		collect(s.Transforms)
	}
	for _, s := range cfg.Sinks {
		collect(s.Transforms)
	}
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Key < errs[j].Key
	})
	return errs
}

// options reads a transform's options, remembering which keys it knows so
// that finish can report the unknown ones.
type options struct {
	t     configs.Transform
	known []string
	errs  configs.Errors
}

func (o *options) errorf(key, format string, args ...any) {
	e := o.t.Errorf(format, args...)
	if key != "" {
		if e.Key != "" {
			e.Key += "."
		}
		e.Key += key
	}
	o.errs = append(o.errs, e)
}

func (o *options) get(key string) (any, bool) {
	o.known = append(o.known, key)
	v, ok := o.t.Options[key]
	return v, ok && v != nil
}

// finish reports options no builder asked for.
func (o *options) finish() {
	keys := make([]string, 0, len(o.t.Options))
	for k := range o.t.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if slices.Contains(o.known, k) {
			continue
		}
		if s := configs.Suggest(k, o.known); s != "" {
			o.errorf(k, "unknown key %q for transform %s (did you mean %q?)", k, o.t.Type, s)
		} else {
			o.errorf(k, "unknown key %q for transform %s; valid keys: %s", k, o.t.Type, strings.Join(o.known, ", "))
		}
	}
}

func (o *options) str(key, def string) string {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case string:
		return x
	case int, int64, float64, bool:
		return fmt.Sprint(x)
	}
	o.errorf(key, "want a string, got %s", kindOf(v))
	return def
}

func (o *options) boolean(key string, def bool) bool {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b
		}
	}
	o.errorf(key, "want true or false, got %v", v)
	return def
}

// oneOf reads a string that must be one of valid.
func (o *options) oneOf(key, def string, valid ...string) string {
	s := o.str(key, def)
	if !slices.Contains(valid, s) {
		o.errorf(key, "%q is not valid: want one of %s", s, strings.Join(valid, ", "))
		return def
	}
	return s
}

// strs reads a list of strings; a comma-separated string is accepted too.
func (o *options) strs(key string) []string {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case string:
		var out []string
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	case []any:
		out := make([]string, 0, len(x))
		for i, el := range x {
			s, ok := el.(string)
			if !ok {
				o.errorf(fmt.Sprintf("%s[%d]", key, i), "want a string, got %s", kindOf(el))
				continue
			}
			out = append(out, s)
		}
		return out
	}
	o.errorf(key, "want a list of strings, got %s", kindOf(v))
	return nil
}

// strMap reads a mapping of strings to strings; "a:b,c:d" is accepted too
// (the Kafka Connect form).
func (o *options) strMap(key string) map[string]string {
	m, _ := o.strMapOrdered(key)
	return m
}

// strMapOrdered is strMap that also returns the keys in a stable order
// (as written for the string form, sorted for a mapping).
func (o *options) strMapOrdered(key string) (map[string]string, []string) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	out := map[string]string{}
	var order []string
	switch x := v.(type) {
	case string:
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			k, val, ok := strings.Cut(p, ":")
			if !ok {
				o.errorf(key, "%q is not name:value", p)
				continue
			}
			k = strings.TrimSpace(k)
			out[k] = strings.TrimSpace(val)
			order = append(order, k)
		}
		return out, order
	case map[string]any:
		for k, el := range x {
			switch s := el.(type) {
			case string:
				out[k] = s
			case int, int64, float64, bool:
				out[k] = fmt.Sprint(s)
			default:
				o.errorf(key+"."+k, "want a string, got %s", kindOf(el))
				continue
			}
			order = append(order, k)
		}
		sort.Strings(order)
		return out, order
	}
	o.errorf(key, "want a mapping, got %s", kindOf(v))
	return nil, nil
}

// anyMap reads a mapping with scalar values, keys sorted.
func (o *options) anyMap(key string) (map[string]any, []string) {
	v, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	x, ok := v.(map[string]any)
	if !ok {
		o.errorf(key, "want a mapping, got %s", kindOf(v))
		return nil, nil
	}
	order := make([]string, 0, len(x))
	for k := range x {
		order = append(order, k)
	}
	sort.Strings(order)
	return x, order
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
