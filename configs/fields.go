package configs

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

var (
	durationType  = reflect.TypeFor[Duration]()
	transformType = reflect.TypeFor[Transform]()
)

// fieldInfo is what the decoder, defaults, validation and redaction need to
// know about one struct field, read from its tags.
type fieldInfo struct {
	name     string // yaml key
	index    int    // struct field index
	typ      reflect.Type
	only     []string // valid only for these connector types
	secret   string   // "", "true" or "dsn"
	interp   bool     // apply ${...} interpolation
	split    bool     // accept a comma-separated scalar for a list
	keepZero bool     // an explicit "" is a value
	hasDef   bool
	def      reflect.Value // parsed default
}

type structInfo struct {
	fields   []*fieldInfo
	byName   map[string]*fieldInfo
	prefixes map[string]bool // "heartbeat" for "heartbeat.interval"
	names    []string
	typeIdx  int // index of the "Type" field, or -1
}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byName: map[string]*fieldInfo{}, prefixes: map[string]bool{}, typeIdx: -1}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" || name == "" {
			continue
		}
		f := &fieldInfo{
			name:     name,
			index:    i,
			typ:      sf.Type,
			secret:   sf.Tag.Get("secret"),
			interp:   sf.Tag.Get("interpolate") != "false",
			split:    sf.Tag.Get("split") == ",",
			keepZero: sf.Tag.Get("empty") == "keep",
		}
		if o := sf.Tag.Get("only"); o != "" {
			f.only = strings.Split(o, ",")
		}
		if d, ok := sf.Tag.Lookup("default"); ok {
			f.hasDef = true
			f.def = reflect.New(sf.Type).Elem()
			if err := setScalar(f.def, d); err != nil {
				panic(fmt.Sprintf("configs: bad default for %s.%s: %v", t.Name(), sf.Name, err))
			}
		}
		if sf.Name == "Type" && sf.Type.Kind() == reflect.String {
			si.typeIdx = i
		}
		si.fields = append(si.fields, f)
		si.byName[name] = f
		si.names = append(si.names, name)
		for j := 0; j < len(name); j++ {
			if name[j] == '.' {
				si.prefixes[name[:j]] = true
			}
		}
	}
	v, _ := structInfos.LoadOrStore(t, si)
	return v.(*structInfo)
}

// connType returns the value of the struct's Type field, or "".
func (si *structInfo) connType(v reflect.Value) string {
	if si.typeIdx < 0 {
		return ""
	}
	return v.Field(si.typeIdx).String()
}

// validFor reports whether f may be set on a connector of type typ.
func (f *fieldInfo) validFor(typ string) bool {
	return len(f.only) == 0 || slices.Contains(f.only, typ)
}

// acceptsMapping reports whether a YAML mapping is a valid value for t.
func acceptsMapping(t reflect.Type) bool {
	return (t.Kind() == reflect.Struct && t != durationType) || t.Kind() == reflect.Map
}

// setScalar parses s into v according to v's kind. It is used for defaults
// and for scalar values after interpolation; errors describe the expected
// type.
func setScalar(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return fmt.Errorf("expected a boolean (true or false), got %s", quoteValue(s))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := parseInt(s, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := parseInt(s, 64)
		if err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("expected a non-negative integer, got %s", quoteValue(s))
		}
		if v.OverflowUint(uint64(n)) {
			return fmt.Errorf("integer %s is out of range", s)
		}
		v.SetUint(uint64(n))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

func parseInt(s string, bits int) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.ReplaceAll(t, "_", "")
	base := 10
	body := strings.TrimLeft(t, "+-")
	if len(body) > 2 && body[0] == '0' && strings.ContainsRune("xXoObB", rune(body[1])) {
		base = 0
	}
	n, err := strconv.ParseInt(t, base, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("integer %s is out of range", s)
		}
		return 0, fmt.Errorf("expected an integer, got %s", quoteValue(s))
	}
	return n, nil
}

// typeName describes what a value of type t looks like in YAML.
func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration"
	case t == transformType:
		return "a mapping with a type key"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "a list of strings"
		}
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a value"
}

// quoteValue quotes a value for an error message, shortening long ones.
func quoteValue(s string) string {
	const maxLen = 60
	r := []rune(s)
	if len(r) > maxLen {
		s = string(r[:maxLen]) + "..."
	}
	return fmt.Sprintf("%q", s)
}
