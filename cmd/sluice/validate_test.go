package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateReportsTransformErrors checks that sluice validate compiles
// the transforms and reports their problems at file:line with the key.
func TestValidateReportsTransformErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.yaml")
	yaml := `sources:
  - name: inv
    type: postgres
    dsn: postgres://u@localhost/inv
    transforms:
      - type: unwrap
      - type: mask
        fields: [email]
        replacment: "***"
      - type: mask
        fields: [phone]
        hash: true
        salt: pepper-secret
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := run([]string{"validate", "-c", path}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr.String())
	}
	want := path + `:7:9: sources[0].transforms[1].replacment: unknown key "replacment" for transform mask (did you mean "replacement"?)`
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(yaml, "replacment", "replacement", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"validate", "-c", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d for a valid file; stderr: %s", code, stderr.String())
	}
	// The mask's salt is a secret: the printed configuration redacts it.
	if strings.Contains(stdout.String(), "pepper-secret") || !strings.Contains(stdout.String(), "salt: '*****'") {
		t.Errorf("salt not redacted:\n%s", stdout.String())
	}
}
