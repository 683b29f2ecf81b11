package mysql

import (
	"maps"
	"sync"
	"time"
)

// Status is a connector's live state, safe for concurrent use.
type Status struct {
	mu         sync.Mutex
	state      string
	events     int64
	file       string
	pos        uint32
	gtids      string
	sourceTime time.Time
	tables     map[string]int64 // snapshot rows read per table
}

// StatusSnapshot is a copy of Status at one instant.
type StatusSnapshot struct {
	State      string           `json:"state"`
	Events     int64            `json:"events"`
	File       string           `json:"binlog_file,omitempty"`
	Pos        uint32           `json:"binlog_pos,omitempty"`
	GTIDs      string           `json:"gtids,omitempty"`
	SourceTime *time.Time       `json:"last_source_time,omitempty"`
	Snapshot   map[string]int64 `json:"snapshot_rows,omitempty"`
}

func (s *Status) setState(st string) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
}

func (s *Status) addEvents(n int, tsUs int64) {
	s.mu.Lock()
	s.events += int64(n)
	if tsUs > 0 {
		s.sourceTime = time.UnixMicro(tsUs).UTC()
	}
	s.mu.Unlock()
}

func (s *Status) setPosition(file string, pos uint32, gtids string) {
	s.mu.Lock()
	s.file, s.pos, s.gtids = file, pos, gtids
	s.mu.Unlock()
}

// startTable resets a table's count when its snapshot (re)starts.
func (s *Status) startTable(table string) {
	s.mu.Lock()
	if s.tables == nil {
		s.tables = map[string]int64{}
	}
	s.tables[table] = 0
	s.mu.Unlock()
}

func (s *Status) addRows(table string, n int64) {
	s.mu.Lock()
	if s.tables == nil {
		s.tables = map[string]int64{}
	}
	s.tables[table] += n
	s.mu.Unlock()
}

// Snapshot returns a copy of the status.
func (s *Status) Snapshot() StatusSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := StatusSnapshot{State: s.state, Events: s.events, File: s.file, Pos: s.pos, GTIDs: s.gtids, Snapshot: maps.Clone(s.tables)}
	if !s.sourceTime.IsZero() {
		t := s.sourceTime
		out.SourceTime = &t
	}
	return out
}
