package sql

import (
	"context"
	"fmt"
	"strings"

	"github.com/sluice-cdc/sluice/change"
)

// applySchemaChange adds, with auto_evolve, the columns that the CREATE and
// ALTER table changes of a schema-change event define and the target
// tables lack, so that a column added in the source exists in the target
// before the first row carrying it (and even if no row ever does). It
// touches existing tables only: a table is created by its first record,
// which brings the key. Columns are never dropped, and a column whose
// definition does not say for sure which type its rows will carry (a
// geometry, an array, a type the source maps by option) is left to the
// first record that has it.
func (s *Sink) applySchemaChange(ctx context.Context, topic string, e *change.Event) error {
	if !s.o.AutoEvolve {
		return nil
	}
	for _, tc := range e.SchemaChange.TableChanges {
		if tc.Type != "CREATE" && tc.Type != "ALTER" {
			continue
		}
		parent, name, ok := splitTableID(tc.ID)
		if !ok {
			continue
		}
		// The table's own topic and source block, as its records have them.
		src := change.Source{Connector: e.Source.Connector, Table: name, DB: parent}
		if e.Source.Connector == "postgresql" {
			src.DB, src.Schema = e.Source.DB, parent
		}
		id := s.tableIDFor(topic+"."+parent+"."+name, &src)
		t, err := s.lookup(ctx, id)
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		for _, c := range tc.Table.Columns {
			if t.cols[s.d.fold(c.Name)] {
				continue
			}
			cs := definitionSchema(e.Source.Connector, c)
			if cs == nil {
				continue
			}
			if _, err := s.db.ExecContext(ctx, s.d.addColumn(t.q, c.Name, s.d.columnType(cs, false))); err != nil {
				delete(s.tables, id)
				return fmt.Errorf("sql sink: add column %s to %s (schema change %q): %w", c.Name, t.q, e.SchemaChange.DDL, err)
			}
			s.log.Info("added column from a schema change", "table", t.q, "column", c.Name)
			t.cols[s.d.fold(c.Name)] = true
		}
	}
	return nil
}

// splitTableID splits a table change id such as "public"."customers" or
// "inventory"."customers".
func splitTableID(id string) (parent, table string, ok bool) {
	p, t, ok := strings.Cut(id, `"."`)
	if !ok || !strings.HasPrefix(p, `"`) || !strings.HasSuffix(t, `"`) {
		return "", "", false
	}
	return strings.ReplaceAll(p[1:], `""`, `"`), strings.ReplaceAll(t[:len(t)-1], `""`, `"`), true
}

// definitionSchema is the Connect schema that sluice's source of kind
// connector gives the rows of a column so defined (with default options),
// or nil where that depends on more than the definition. Columns added
// from a schema change are nullable.
func definitionSchema(connector string, c change.ColumnSchema) *change.Schema {
	t := strings.ToLower(strings.TrimSpace(c.TypeName))
	unsigned := strings.HasSuffix(t, " unsigned")
	t = strings.TrimSuffix(t, " unsigned")
	mysql := connector == "mysql"
	switch t {
	case "bool", "boolean":
		return change.PrimitiveSchema(change.TypeBoolean, true)
	case "bit":
		if c.Length <= 1 {
			return change.PrimitiveSchema(change.TypeBoolean, true)
		}
		return change.BitsSchema(int(c.Length), true)
	case "tinyint":
		return change.PrimitiveSchema(change.TypeInt16, true)
	case "smallint", "int2":
		if unsigned {
			return change.PrimitiveSchema(change.TypeInt32, true)
		}
		return change.PrimitiveSchema(change.TypeInt16, true)
	case "mediumint":
		return change.PrimitiveSchema(change.TypeInt32, true)
	case "int", "integer", "int4":
		if unsigned {
			return change.PrimitiveSchema(change.TypeInt64, true)
		}
		return change.PrimitiveSchema(change.TypeInt32, true)
	case "bigint", "int8":
		if unsigned {
			// Holds both forms bigint.unsigned.handling.mode gives.
			return change.DecimalSchema(0, 20, true)
		}
		return change.PrimitiveSchema(change.TypeInt64, true)
	case "float", "float4":
		return change.PrimitiveSchema(change.TypeFloat32, true)
	case "real":
		if mysql {
			return change.PrimitiveSchema(change.TypeFloat64, true)
		}
		return change.PrimitiveSchema(change.TypeFloat32, true)
	case "double", "double precision", "float8":
		return change.PrimitiveSchema(change.TypeFloat64, true)
	case "decimal", "numeric":
		if c.Length > 0 && c.Scale != nil {
			return change.DecimalSchema(int(*c.Scale), int(c.Length), true)
		}
		return change.VariableScaleDecimalSchema(true)
	case "date":
		return change.DateSchema(true)
	case "time":
		return change.MicroTimeSchema(true)
	case "timetz":
		return change.ZonedTimeSchema(true)
	case "datetime":
		return change.MicroTimestampSchema(true)
	case "timestamp":
		if mysql {
			return change.ZonedTimestampSchema(true)
		}
		return change.MicroTimestampSchema(true)
	case "timestamptz":
		return change.ZonedTimestampSchema(true)
	case "year":
		return change.YearSchema(true)
	case "json", "jsonb":
		return change.JSONSchema(true)
	case "uuid":
		return change.UUIDSchema(true)
	case "bytea", "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return change.PrimitiveSchema(change.TypeBytes, true)
	case "char", "bpchar", "varchar", "character", "character varying", "text", "tinytext", "mediumtext", "longtext",
		"enum", "set", "name", "citext", "xml", "inet", "cidr", "macaddr":
		return change.PrimitiveSchema(change.TypeString, true)
	}
	return nil
}
