package e2e

import (
	"log/slog"
	"testing"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/daemon"
)

// TestMySQLOptionsMapping checks that the MySQL-only keys reach the
// source's options (no database needed).
func TestMySQLOptionsMapping(t *testing.T) {
	parse := func(extra ...string) *configs.Source {
		t.Helper()
		cfg, err := configs.Parse("test.yaml", []byte(mySourceYAML("opts", "mysql://u@h:3306/", extra...)))
		if err != nil {
			t.Fatal(err)
		}
		return &cfg.Sources[0]
	}
	o := daemon.MySQLOptions(parse(), slog.Default())
	if o.Decoder.BigIntUnsignedMode != "long" || o.SkipUnparsableDDL || o.IncludeQuery {
		t.Errorf("defaults: bigint %q, skip DDL %v, include query %v", o.Decoder.BigIntUnsignedMode, o.SkipUnparsableDDL, o.IncludeQuery)
	}
	o = daemon.MySQLOptions(parse("bigint.unsigned.handling.mode: precise",
		"schema.history.internal.skip.unparseable.ddl: true", "include.query: true"), slog.Default())
	if o.Decoder.BigIntUnsignedMode != "precise" || !o.SkipUnparsableDDL || !o.IncludeQuery {
		t.Errorf("set: bigint %q, skip DDL %v, include query %v", o.Decoder.BigIntUnsignedMode, o.SkipUnparsableDDL, o.IncludeQuery)
	}
}
