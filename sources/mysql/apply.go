package mysql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"
)

// Applied is one table change a DDL statement makes to the schema model.
type Applied struct {
	Type string // CREATE | ALTER | DROP
	// Table is the new definition (CREATE, ALTER) or the dropped one (DROP).
	Table Table
}

// SchemaModel is what ApplyDDL needs to know about the current schema.
type SchemaModel struct {
	// Table returns the current definition of db.name.
	Table func(db, name string) (Table, bool)
	// DBCharset returns a database's default character set ("" unknown).
	DBCharset func(db string) string
	// MariaDB: JSON is an alias of LONGTEXT.
	MariaDB bool
}

// ApplyDDL applies one table DDL statement to the model and returns the
// resulting table changes. ok is false when the statement cannot be
// applied from its text alone (CREATE TABLE ... LIKE/SELECT, CONVERT TO
// CHARACTER SET, a table the model does not know); the caller then reads
// the definitions from the catalog.
func ApplyDDL(m SchemaModel, defaultDB, sql string) (changes []Applied, ok bool, err error) {
	stmt, perr := parseOne(sql)
	if perr != nil {
		return nil, false, perr
	}
	name := func(tn *ast.TableName) (string, string) {
		db := tn.Schema.O
		if db == "" {
			db = defaultDB
		}
		return db, tn.Name.O
	}
	switch s := stmt.(type) {
	case *ast.CreateTableStmt:
		if s.ReferTable != nil || s.Select != nil {
			return nil, false, nil
		}
		db, tn := name(s.Table)
		t := Table{DB: db, Name: tn, Charset: m.DBCharset(db)}
		for _, o := range s.Options {
			if o.Tp == ast.TableOptionCharset && o.StrValue != "" {
				t.Charset = strings.ToLower(o.StrValue)
			}
		}
		for _, cd := range s.Cols {
			c, err := columnFromDef(cd, t.Charset, m.MariaDB)
			if err != nil {
				return nil, false, err
			}
			t.Columns = append(t.Columns, c)
		}
		for _, con := range s.Constraints {
			if con.Tp == ast.ConstraintPrimaryKey {
				setPrimaryKey(&t, con.Keys)
			}
		}
		return []Applied{{Type: "CREATE", Table: t}}, true, nil
	case *ast.AlterTableStmt:
		db, tn := name(s.Table)
		t, known := m.Table(db, tn)
		if !known {
			return nil, false, nil
		}
		t.Columns = slices.Clone(t.Columns)
		var renamed *Table
		for _, spec := range s.Specs {
			switch spec.Tp {
			case ast.AlterTableAddColumns:
				for _, cd := range spec.NewColumns {
					c, err := columnFromDef(cd, t.Charset, m.MariaDB)
					if err != nil {
						return nil, false, err
					}
					if err := insertColumn(&t, c, spec.Position); err != nil {
						return nil, false, err
					}
				}
			case ast.AlterTableDropColumn:
				i := columnIndex(t, spec.OldColumnName.Name.O)
				if i < 0 {
					return nil, false, nil
				}
				t.Columns = slices.Delete(t.Columns, i, i+1)
			case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
				old := spec.NewColumns[0].Name.Name.O
				if spec.OldColumnName != nil {
					old = spec.OldColumnName.Name.O
				}
				i := columnIndex(t, old)
				if i < 0 {
					return nil, false, nil
				}
				c, err := columnFromDef(spec.NewColumns[0], t.Charset, m.MariaDB)
				if err != nil {
					return nil, false, err
				}
				c.Key, c.KeySeq = t.Columns[i].Key, t.Columns[i].KeySeq
				if c.Key {
					c.Nullable = false
				}
				t.Columns = slices.Delete(t.Columns, i, i+1)
				if spec.Position == nil || spec.Position.Tp == ast.ColumnPositionNone {
					t.Columns = slices.Insert(t.Columns, i, c)
				} else if err := insertColumn(&t, c, spec.Position); err != nil {
					return nil, false, err
				}
			case ast.AlterTableRenameColumn:
				i := columnIndex(t, spec.OldColumnName.Name.O)
				if i < 0 {
					return nil, false, nil
				}
				t.Columns[i].Name = spec.NewColumnName.Name.O
			case ast.AlterTableAddConstraint:
				if spec.Constraint != nil && spec.Constraint.Tp == ast.ConstraintPrimaryKey {
					setPrimaryKey(&t, spec.Constraint.Keys)
				}
			case ast.AlterTableDropPrimaryKey:
				for i := range t.Columns {
					t.Columns[i].Key, t.Columns[i].KeySeq = false, 0
				}
			case ast.AlterTableRenameTable:
				ndb, nt := name(spec.NewTable)
				r := t
				r.DB, r.Name = ndb, nt
				renamed = &r
			case ast.AlterTableOption:
				for _, o := range spec.Options {
					if o.Tp == ast.TableOptionCharset && o.StrValue != "" {
						if o.UintValue == ast.TableOptionCharsetWithConvertTo {
							return nil, false, nil // converts the columns too
						}
						t.Charset = strings.ToLower(o.StrValue)
					}
				}
			default:
				// Indexes, options, partitions, locks: no column change.
			}
		}
		if renamed != nil {
			renamed.Columns = t.Columns
			old, _ := m.Table(db, tn)
			return []Applied{{Type: "DROP", Table: old}, {Type: "CREATE", Table: *renamed}}, true, nil
		}
		return []Applied{{Type: "ALTER", Table: t}}, true, nil
	case *ast.RenameTableStmt:
		var out []Applied
		for _, tt := range s.TableToTables {
			db, tn := name(tt.OldTable)
			t, known := m.Table(db, tn)
			if !known {
				continue
			}
			ndb, nt := name(tt.NewTable)
			r := t
			r.DB, r.Name = ndb, nt
			out = append(out, Applied{Type: "DROP", Table: t}, Applied{Type: "CREATE", Table: r})
		}
		return out, true, nil
	case *ast.DropTableStmt:
		var out []Applied
		for _, tn := range s.Tables {
			db, n := name(tn)
			if t, known := m.Table(db, n); known {
				out = append(out, Applied{Type: "DROP", Table: t})
			}
		}
		return out, true, nil
	}
	return nil, true, nil
}

func columnIndex(t Table, name string) int {
	for i, c := range t.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

func insertColumn(t *Table, c Column, pos *ast.ColumnPosition) error {
	if pos == nil || pos.Tp == ast.ColumnPositionNone {
		t.Columns = append(t.Columns, c)
		return nil
	}
	if pos.Tp == ast.ColumnPositionFirst {
		t.Columns = slices.Insert(t.Columns, 0, c)
		return nil
	}
	i := columnIndex(*t, pos.RelativeColumn.Name.O)
	if i < 0 {
		return fmt.Errorf("column %s: AFTER unknown column %s", c.Name, pos.RelativeColumn.Name.O)
	}
	t.Columns = slices.Insert(t.Columns, i+1, c)
	return nil
}

func setPrimaryKey(t *Table, keys []*ast.IndexPartSpecification) {
	for i := range t.Columns {
		t.Columns[i].Key, t.Columns[i].KeySeq = false, 0
	}
	for seq, k := range keys {
		if k.Column == nil {
			continue
		}
		if i := columnIndex(*t, k.Column.Name.O); i >= 0 {
			t.Columns[i].Key, t.Columns[i].KeySeq = true, seq+1
			t.Columns[i].Nullable = false
		}
	}
}

// columnFromDef converts a column definition of CREATE/ALTER TABLE.
func columnFromDef(cd *ast.ColumnDef, tableCharset string, mariadb bool) (Column, error) {
	ft := cd.Tp
	c := Column{Name: cd.Name.Name.O, Nullable: true}
	tp := ft.GetType()
	cs := ft.GetCharset()
	c.DataType = types.TypeToStr(tp, cs)
	switch c.DataType {
	case "var_string":
		c.DataType = "varchar"
	case "json":
		if mariadb {
			c.DataType = "longtext"
		}
	case "geometry", "unspecified", "null", "vector":
		if c.DataType != "geometry" {
			return c, fmt.Errorf("column %s: unsupported type %s", c.Name, ft.String())
		}
	}
	c.Unsigned = pmysql.HasUnsignedFlag(ft.GetFlag())
	c.ColumnType = ft.CompactStr()
	if c.Unsigned && !strings.Contains(c.ColumnType, "unsigned") {
		c.ColumnType += " unsigned"
	}
	flen, dec := ft.GetFlen(), ft.GetDecimal()
	switch c.DataType {
	case "decimal", "numeric":
		c.Length, c.Scale = 10, 0
		if flen != types.UnspecifiedLength {
			c.Length = int64(flen)
		}
		if dec != types.UnspecifiedLength {
			c.Scale = dec
		}
	case "bit":
		c.Length = 1
		if flen != types.UnspecifiedLength {
			c.Length = int64(flen)
		}
	case "datetime", "timestamp", "time":
		if dec != types.UnspecifiedLength {
			c.FSP = dec
		}
	case "char", "binary":
		c.Length = 1
		if flen != types.UnspecifiedLength {
			c.Length = int64(flen)
		}
	default:
		if flen != types.UnspecifiedLength {
			c.Length = int64(flen)
		}
	}
	switch c.DataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		c.Charset = strings.ToLower(cs)
		if c.Charset == "" {
			c.Charset = tableCharset
		}
	}
	if c.DataType == "enum" || c.DataType == "set" {
		c.EnumValues = slices.Clone(ft.GetElems())
	}
	if spatial, ok := spatialFromMarker(c.EnumValues); ok && c.DataType == "enum" {
		c.DataType, c.ColumnType, c.Charset, c.EnumValues = spatial, spatial, "", nil
	}
	for _, o := range cd.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull:
			c.Nullable = false
		case ast.ColumnOptionNull:
			c.Nullable = true
		case ast.ColumnOptionPrimaryKey:
			c.Key, c.KeySeq, c.Nullable = true, 1, false
		case ast.ColumnOptionAutoIncrement:
			c.AutoIncrement = true
		case ast.ColumnOptionDefaultValue:
			c.Default = defaultText(o.Expr)
		}
	}
	if pmysql.HasNotNullFlag(ft.GetFlag()) {
		c.Nullable = false
	}
	return c, nil
}

// defaultText renders a DEFAULT expression as information_schema shows it
// on MariaDB: string literals quoted, numbers bare, NULL, function calls
// with parentheses; nil for anything else.
func defaultText(e ast.ExprNode) *string {
	var s string
	switch x := e.(type) {
	case ast.ValueExpr:
		switch v := x.GetValue().(type) {
		case nil:
			s = "NULL"
		case string:
			s = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case []byte:
			s = "'" + strings.ReplaceAll(string(v), "'", "''") + "'"
		default:
			s = fmt.Sprint(v)
		}
	case *ast.FuncCallExpr:
		s = x.FnName.L + "()"
	default:
		return nil
	}
	return &s
}
