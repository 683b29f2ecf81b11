package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// renders to YAML it accepts again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("examples/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			f.Add(string(data))
		}
	}
	for _, seed := range []string{
		"",
		"sources: [{name: a, type: postgres, dsn: 'postgres://u:p@h/db', heartbeat: {interval: 5}}]",
		"x-a: &a {type: mysql}\nsources: [{<<: *a, name: b, dsn: 'mysql://h/'}]",
		"kafka: {topic: {partitions: ${P:-2}}}",
		"sinks: [{name: s, type: sql, topics: [t], dsn: 'sqlite:///x', transforms: [{type: t, a: [1, {b: $$c}]}]}]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := parse("fuzz.yaml", []byte(doc), testInterpolator(map[string]string{"P": "3"}, nil))
		if err != nil {
			return
		}
		out := c.String()
		if _, err := parse("fuzz.yaml", []byte(out), testInterpolator(nil, nil)); err != nil {
			t.Fatalf("rendering of an accepted config is rejected:\n%v\n--- input\n%s\n--- rendering\n%s", err, doc, out)
		}
	})
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-a: &a [x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for i := 0; i < 8; i++ {
		name := string(rune('b' + i))
		b.WriteString("x-" + name + ": &" + name + " [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	b.WriteString("sources: [{name: s, type: postgres, dsn: 'postgres://h/db', transforms: [{type: t, v: *" + prev + "}]}]\n")
	_, err := Parse("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "document too large after expanding aliases") {
		t.Fatalf("got %v", err)
	}
}
