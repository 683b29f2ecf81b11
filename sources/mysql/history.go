package mysql

import (
	"context"
	"encoding/json"
	"fmt"
)

// DefaultSchemaHistoryTopic is the compacted topic that holds, per
// connector, the table definitions valid at the connector's position.
const DefaultSchemaHistoryTopic = "sluice.schema-history"

// historyRecord is the value of a schema-history record: the captured
// tables' definitions as of the binlog position after the DDL (or the
// snapshot) that produced it. It is written in the same Kafka transaction
// as the schema-change event and the offset, so the last committed record
// always describes the tables at the stored offset: a restart decodes the
// rows that follow with the schema that was valid at their position.
type historyRecord struct {
	Kind   string  `json:"kind"` // "mysql-schema"
	File   string  `json:"file"`
	Pos    uint32  `json:"pos"`
	GTIDs  string  `json:"gtids,omitempty"`
	DDL    string  `json:"ddl,omitempty"`
	Tables []Table `json:"tables"`
}

// rawWriter is implemented by emitters that can add other records to the
// open transaction (pipeline.SourceWriter).
type rawWriter interface {
	WriteRaw(ctx context.Context, topic string, key, value []byte) error
}

// writeHistory adds the decoder's current tables to the open transaction.
func (s *Source) writeHistory(ctx context.Context, em Emitter, dec *Decoder, file string, pos uint32, gtids, ddl string) error {
	if s.o.SchemaHistoryTopic == "" {
		return nil
	}
	rw, ok := em.(rawWriter)
	if !ok {
		return nil
	}
	tables := dec.Tables()
	sortTables(tables)
	b, err := json.Marshal(historyRecord{Kind: "mysql-schema", File: file, Pos: pos, GTIDs: gtids, DDL: ddl, Tables: tables})
	if err != nil {
		return fmt.Errorf("mysql source %s: encode schema history: %w", s.o.Name, err)
	}
	if err := rw.WriteRaw(context.WithoutCancel(ctx), s.o.SchemaHistoryTopic, []byte(s.o.Name), b); err != nil {
		return fmt.Errorf("mysql source %s: write schema history: %w", s.o.Name, err)
	}
	return nil
}

// loadHistory registers the tables of the last committed schema-history
// record; ok is false when there is none.
func (s *Source) loadHistory(ctx context.Context, dec *Decoder) (bool, error) {
	if s.o.LoadSchemaHistory == nil {
		return false, nil
	}
	b, err := s.o.LoadSchemaHistory(ctx)
	if err != nil {
		return false, fmt.Errorf("mysql source %s: read schema history: %w", s.o.Name, err)
	}
	if b == nil {
		return false, nil
	}
	var h historyRecord
	if err := json.Unmarshal(b, &h); err != nil || h.Kind != "mysql-schema" {
		return false, permanent("mysql source %s: decode schema history record: %v", s.o.Name, err)
	}
	for _, t := range h.Tables {
		if !s.captured(t.DB, t.Name) {
			continue
		}
		if err := dec.SetTable(t); err != nil {
			return false, permanent("mysql source %s: schema history: %w", s.o.Name, err)
		}
	}
	s.log.Info("tables loaded from the schema history", "tables", len(h.Tables), "file", h.File, "pos", h.Pos)
	return true, nil
}
