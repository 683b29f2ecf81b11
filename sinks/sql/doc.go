// Package sql is the SQL sink: it materialises change events into tables of
// a PostgreSQL (pgx), MySQL/MariaDB (go-sql-driver/mysql) or SQLite
// (modernc.org/sqlite, pure Go) database.
//
// A batch of records becomes one database transaction holding the rows and
// the consumed Kafka offsets (table sluice_offsets: sink, topic, partition,
// next_offset), so that a restart resumes exactly after the last committed
// batch. Tables are created and widened from the records' Kafka Connect
// schemas (auto_create, auto_evolve) before the batch's transaction starts:
// MySQL commits implicitly on DDL. Each dialect (postgres.go, mysql.go,
// sqlite.go) quotes identifiers, maps Connect types to column types and
// binds values; values always go through placeholders.
//
// It imports change only; the Kafka consumer that feeds it lives in
// internal/runtime.
package sql
