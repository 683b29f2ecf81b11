package configs

import (
	"net/url"
	"reflect"
	"regexp"
	"strings"
)

// Redacted returns a deep copy of c with every secret replaced by
// RedactedValue: fields tagged secret (passwords, tokens, API keys), the
// password part of DSNs and URLs (see RedactDSN), and values under
// secret-looking keys (password, secret, token, jaas, credential, ...) in
// free-form maps such as transform options and topic configs.
func (c *Config) Redacted() *Config {
	if c == nil {
		return nil
	}
	cp := redactedCopy(*c)
	cp.meta = c.meta
	return &cp
}

// redactedCopy deep-copies a struct value and redacts the copy.
func redactedCopy[T any](x T) T {
	v := deepCopy(reflect.ValueOf(x))
	redactStruct(v)
	return v.Interface().(T)
}

// deepCopy returns an addressable deep copy of v. Unexported fields are
// left zero.
func deepCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			return out
		}
		out.Set(reflect.MakeSlice(v.Type(), v.Len(), v.Len()))
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
	case reflect.Map:
		if v.IsNil() {
			return out
		}
		out.Set(reflect.MakeMapWithSize(v.Type(), v.Len()))
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return out
		}
		if v.Kind() == reflect.Pointer {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(deepCopy(v.Elem()))
			out.Set(p)
		} else {
			out.Set(deepCopy(v.Elem()))
		}
	default:
		out.Set(v)
	}
	return out
}

// redactStruct redacts the addressable struct v in place.
func redactStruct(v reflect.Value) {
	si := structInfoOf(v.Type())
	for _, f := range si.fields {
		fv := v.Field(f.index)
		switch {
		case f.secret == "true" && fv.Kind() == reflect.String:
			if fv.String() != "" {
				fv.SetString(RedactedValue)
			}
		case f.secret == "dsn" && fv.Kind() == reflect.String:
			fv.SetString(RedactDSN(fv.String()))
		case f.secret == "dsn" && fv.Kind() == reflect.Slice:
			for i := 0; i < fv.Len(); i++ {
				fv.Index(i).SetString(RedactDSN(fv.Index(i).String()))
			}
		case f.typ == transformType:
		case f.typ.Kind() == reflect.Struct && f.typ != durationType:
			redactStruct(fv)
		case f.typ.Kind() == reflect.Slice && f.typ.Elem() == transformType:
			for i := 0; i < fv.Len(); i++ {
				t := fv.Index(i).Addr().Interface().(*Transform)
				if t.Options != nil {
					t.Options = redactAny(t.Options).(map[string]any)
				}
			}
		case f.typ.Kind() == reflect.Slice && f.typ.Elem().Kind() == reflect.Struct:
			for i := 0; i < fv.Len(); i++ {
				redactStruct(fv.Index(i))
			}
		case f.typ.Kind() == reflect.Map && f.typ.Elem().Kind() == reflect.String:
			for it := fv.MapRange(); it.Next(); {
				s := it.Value().String()
				if isSecretKey(it.Key().String()) && s != "" {
					s = RedactedValue
				} else {
					s = RedactDSN(s)
				}
				fv.SetMapIndex(it.Key(), reflect.ValueOf(s).Convert(f.typ.Elem()))
			}
		}
	}
}

// redactAny redacts a free-form value: values under secret-looking keys
// are replaced, and DSN passwords in every string are masked.
func redactAny(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			if isSecretKey(k) && v != nil && v != "" {
				x[k] = RedactedValue
			} else {
				x[k] = redactAny(v)
			}
		}
		return x
	case []any:
		for i, v := range x {
			x[i] = redactAny(v)
		}
		return x
	case string:
		return RedactDSN(x)
	}
	return x
}

var secretKeyWords = []string{"password", "passwd", "secret", "token", "jaas", "credential", "apikey", "api_key", "api.key", "private", "salt"}

// isSecretKey reports whether a free-form key probably holds a secret.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretKeyWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

var (
	kvPasswordRe    = regexp.MustCompile(`(?i)(\b(?:password|sslpassword|pwd|pass)\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']*)`)
	queryPasswordRe = regexp.MustCompile(`(?i)^(password|sslpassword|pwd|pass|passwd|secret|token|api_key|apikey)$`)
)

// RedactDSN masks the password in a connection string or URL, keeping
// everything else as written:
//
//	postgres://u:pw@h/db?sslpassword=x   -> postgres://u:*****@h/db?sslpassword=*****
//	host=h user=u password='p w'         -> host=h user=u password=*****
//	u:pw@tcp(h:3306)/db                  -> u:*****@tcp(h:3306)/db
//
// When in doubt it masks more rather than less.
func RedactDSN(s string) string {
	if s == "" {
		return s
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return redactURL(s, i)
	}
	s = kvPasswordRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := kvPasswordRe.FindStringSubmatch(m)
		if sub[2] == "" {
			return m
		}
		return sub[1] + RedactedValue
	})
	// Go MySQL driver form: user:password@protocol(address)/db.
	if at := strings.LastIndex(s, "@"); at > 0 && !strings.ContainsAny(s[:at], " =") {
		if c := strings.IndexByte(s[:at], ':'); c >= 0 {
			return s[:c+1] + RedactedValue + s[at:]
		}
	}
	return s
}

func redactURL(s string, i int) string {
	var b strings.Builder
	b.WriteString(s[:i+3])
	rest := s[i+3:]
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		end = len(rest)
	}
	authPath := rest[:end]
	// The user info ends at the last '@' before the query: an unencoded '@'
	// or '/' in a password then still ends up masked.
	if at := strings.LastIndex(authPath, "@"); at >= 0 && !strings.HasPrefix(authPath, "/") {
		userinfo := authPath[:at]
		if c := strings.IndexByte(userinfo, ':'); c >= 0 {
			userinfo = userinfo[:c+1] + RedactedValue
		}
		b.WriteString(userinfo)
		b.WriteString(authPath[at:])
	} else {
		b.WriteString(authPath)
	}
	rest = rest[end:]
	if strings.HasPrefix(rest, "?") {
		query, frag, hasFrag := strings.Cut(rest[1:], "#")
		params := strings.Split(query, "&")
		for j, p := range params {
			k, val, ok := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if ok && val != "" && queryPasswordRe.MatchString(name) {
				params[j] = k + "=" + RedactedValue
			}
		}
		b.WriteByte('?')
		b.WriteString(strings.Join(params, "&"))
		if hasFrag {
			b.WriteByte('#')
			b.WriteString(frag)
		}
		return b.String()
	}
	b.WriteString(rest)
	return b.String()
}
