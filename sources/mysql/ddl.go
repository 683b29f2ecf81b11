package mysql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser
)

// DDLTarget is one table a DDL statement affects.
type DDLTarget struct {
	Type      string // CREATE | ALTER | DROP | TRUNCATE | RENAME
	DB, Table string
	// NewDB, NewTable are the new name of a RENAME.
	NewDB, NewTable string
}

// ParseDDL parses one statement of a binlog query event run in database
// defaultDB. isDDL is false for statements that change no table (GRANT,
// FLUSH, CREATE USER, ...); targets may be empty for DDL on databases.
// A statement the parser cannot read is an error only when it looks like
// a table DDL.
func ParseDDL(defaultDB, sql string) (targets []DDLTarget, isDDL bool, err error) {
	stmt, perr := parseOne(sql)
	if perr != nil {
		if looksLikeTableDDL(sql) {
			return nil, true, perr
		}
		return nil, false, nil
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
		db, t := name(s.Table)
		return []DDLTarget{{Type: "CREATE", DB: db, Table: t}}, true, nil
	case *ast.AlterTableStmt:
		db, t := name(s.Table)
		out := []DDLTarget{{Type: "ALTER", DB: db, Table: t}}
		for _, spec := range s.Specs {
			if spec.Tp == ast.AlterTableRenameTable && spec.NewTable != nil {
				ndb, nt := name(spec.NewTable)
				out[0] = DDLTarget{Type: "RENAME", DB: db, Table: t, NewDB: ndb, NewTable: nt}
			}
		}
		return out, true, nil
	case *ast.DropTableStmt:
		if s.IsView {
			return nil, false, nil
		}
		var out []DDLTarget
		for _, tn := range s.Tables {
			db, t := name(tn)
			out = append(out, DDLTarget{Type: "DROP", DB: db, Table: t})
		}
		return out, true, nil
	case *ast.RenameTableStmt:
		var out []DDLTarget
		for _, tt := range s.TableToTables {
			db, t := name(tt.OldTable)
			ndb, nt := name(tt.NewTable)
			out = append(out, DDLTarget{Type: "RENAME", DB: db, Table: t, NewDB: ndb, NewTable: nt})
		}
		return out, true, nil
	case *ast.TruncateTableStmt:
		db, t := name(s.Table)
		return []DDLTarget{{Type: "TRUNCATE", DB: db, Table: t}}, true, nil
	case *ast.CreateIndexStmt:
		db, t := name(s.Table)
		return []DDLTarget{{Type: "ALTER", DB: db, Table: t}}, true, nil
	case *ast.DropIndexStmt:
		db, t := name(s.Table)
		return []DDLTarget{{Type: "ALTER", DB: db, Table: t}}, true, nil
	case *ast.CreateDatabaseStmt, *ast.DropDatabaseStmt, *ast.AlterDatabaseStmt:
		return nil, true, nil
	}
	return nil, false, nil
}

func looksLikeTableDDL(sql string) bool {
	f := strings.Fields(strings.ToUpper(sql))
	if len(f) < 2 {
		return false
	}
	switch f[0] {
	case "ALTER", "RENAME", "TRUNCATE":
		return f[1] == "TABLE" || f[1] == "ONLINE" || f[1] == "IGNORE"
	case "CREATE", "DROP":
		for _, w := range f[1:min(len(f), 4)] {
			if w == "TABLE" || w == "INDEX" {
				return true
			}
		}
	}
	return false
}

// parseOne parses one statement with the TiDB parser.
func parseOne(sql string) (ast.StmtNode, error) {
	stmt, err := parser.New().ParseOneStmt(sql, "", "")
	if err != nil {
		// Spatial column types: see rewriteSpatial.
		if rewritten, ok := rewriteSpatial(sql); ok {
			if stmt, rerr := parser.New().ParseOneStmt(rewritten, "", ""); rerr == nil {
				return stmt, nil
			}
		}
		return nil, fmt.Errorf("parse DDL %q: %w", sql, err)
	}
	return stmt, nil
}
