package postgres

import (
	"sync"
	"time"
)

// Status is a connector's live state, safe for concurrent use.
type Status struct {
	mu         sync.Mutex
	state      string
	events     int64
	commitLSN  uint64
	confirmed  uint64
	sourceTime time.Time
	tables     map[string]*TableProgress
	order      []string
}

// TableProgress is the snapshot progress of one table.
type TableProgress struct {
	Rows      int64 `json:"rows"`
	Estimated int64 `json:"estimated"`
	Done      bool  `json:"done"`
}

// StatusSnapshot is a copy of Status at one instant.
type StatusSnapshot struct {
	State        string                   `json:"state"`
	Events       int64                    `json:"events"`
	CommitLSN    string                   `json:"commit_lsn,omitempty"`
	ConfirmedLSN string                   `json:"confirmed_lsn,omitempty"`
	SourceTime   *time.Time               `json:"last_source_time,omitempty"`
	Snapshot     map[string]TableProgress `json:"snapshot,omitempty"`
}

func (s *Status) setState(st string) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
}

func (s *Status) addEvents(n int) {
	s.mu.Lock()
	s.events += int64(n)
	s.mu.Unlock()
}

func (s *Status) setPosition(lsn uint64) {
	s.mu.Lock()
	s.commitLSN = lsn
	s.mu.Unlock()
}

func (s *Status) setConfirmed(lsn uint64) {
	s.mu.Lock()
	s.confirmed = lsn
	s.mu.Unlock()
}

func (s *Status) setSourceTime(t time.Time) {
	s.mu.Lock()
	s.sourceTime = t
	s.mu.Unlock()
}

func (s *Status) tableProgress(table string, estimated int64) *TableProgress {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tables == nil {
		s.tables = map[string]*TableProgress{}
	}
	p, ok := s.tables[table]
	if !ok {
		p = &TableProgress{}
		s.tables[table] = p
		s.order = append(s.order, table)
	}
	// A table read again (a restarted or ad-hoc snapshot) counts afresh.
	p.Rows, p.Done, p.Estimated = 0, false, estimated
	return p
}

func (s *Status) addRows(p *TableProgress, n int64, done bool) {
	s.mu.Lock()
	p.Rows += n
	p.Done = p.Done || done
	s.mu.Unlock()
}

// Snapshot returns a copy of the status.
func (s *Status) Snapshot() StatusSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := StatusSnapshot{State: s.state, Events: s.events}
	if s.commitLSN > 0 {
		out.CommitLSN = fmtLSN(s.commitLSN)
	}
	if s.confirmed > 0 {
		out.ConfirmedLSN = fmtLSN(s.confirmed)
	}
	if !s.sourceTime.IsZero() {
		t := s.sourceTime
		out.SourceTime = &t
	}
	if len(s.tables) > 0 {
		out.Snapshot = make(map[string]TableProgress, len(s.tables))
		for k, v := range s.tables {
			out.Snapshot[k] = *v
		}
	}
	return out
}

func fmtLSN(l uint64) string {
	return lsnString(l)
}
