// Command sqlite-rows prints the rows of tables in a SQLite database: the
// quickstart uses it to show what the SQL sink replicated, without needing
// the sqlite3 CLI.
//
//	sqlite-rows -db FILE [-until SQL] [-timeout 30s] TABLE...
//
// With -until it first waits until SQL returns a non-zero first column.
package main

import (
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

func main() {
	path := flag.String("db", "", "SQLite database file")
	until := flag.String("until", "", "wait until this query returns a non-zero first column")
	timeout := flag.Duration("timeout", 30*time.Second, "how long -until waits")
	flag.Parse()
	if err := run(*path, *until, *timeout, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "sqlite-rows:", err)
		os.Exit(1)
	}
}

func run(path, until string, timeout time.Duration, tables []string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if until != "" {
		deadline := time.Now().Add(timeout)
		for {
			var n int64
			err := db.QueryRow(until).Scan(&n)
			if err == nil && n != 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%q not true within %s (last error: %v)", until, timeout, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, t := range tables {
		if err := show(db, t); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	return nil
}

func show(db *sql.DB, table string) error {
	rows, err := db.Query(`SELECT * FROM "` + strings.ReplaceAll(table, `"`, `""`) + `" ORDER BY 1`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	fmt.Printf("    %s (%s)\n", table, strings.Join(cols, ", "))
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				out[i] = "NULL"
			case []byte:
				out[i] = `\x` + hex.EncodeToString(x)
			default:
				out[i] = fmt.Sprint(x)
			}
			if len(out[i]) > 60 {
				out[i] = out[i][:57] + "..."
			}
		}
		fmt.Printf("      %s\n", strings.Join(out, " | "))
	}
	return rows.Err()
}
