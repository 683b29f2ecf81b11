package runtime

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupMirror copies a sink's position to its consumer group sluice-<name>
// in the background, for monitoring (consumer-lag tools read the group)
// when the target's offsets table is the sink's truth. The writer hands it
// each batch's records and goes on: a commit round trip per batch on the
// writer's path cost a SQL sink ~8% of its throughput. A commit in flight
// is followed by one of the newest offsets only, and stop makes a last
// commit of what was handed over, so the group ends where the sink did.
type groupMirror struct {
	adm   *kadm.Client
	group string
	log   *slog.Logger

	mu      sync.Mutex
	pending kadm.Offsets // handed over, not yet committed

	// ctx bounds the commits made while the sink runs; stop cancels it,
	// so that a commit stuck on an unreachable broker does not hold the
	// stop up (the last commit has its own bound, final).
	ctx    context.Context
	cancel context.CancelFunc
	final  time.Duration // bound of the last commit

	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

// groupMirrorFinal bounds the last commit at stop.
const groupMirrorFinal = 5 * time.Second

func startGroupMirror(adm *kadm.Client, group string, log *slog.Logger) *groupMirror {
	m := &groupMirror{adm: adm, group: group, log: log, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.final = groupMirrorFinal
	go m.run()
	return m
}

// add records the next offsets of recs' partitions for the next commit.
func (m *groupMirror) add(recs []*kgo.Record) {
	m.mu.Lock()
	if m.pending == nil {
		m.pending = kadm.Offsets{}
	}
	addNextOffsets(m.pending, recs)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take returns and clears the pending offsets.
func (m *groupMirror) take() kadm.Offsets {
	m.mu.Lock()
	defer m.mu.Unlock()
	os := m.pending
	m.pending = nil
	return os
}

func (m *groupMirror) run() {
	defer close(m.done)
	for {
		select {
		case <-m.wake:
			m.commit(m.ctx)
		case <-m.quit:
			ctx, cancel := context.WithTimeout(context.Background(), m.final)
			m.commit(ctx)
			cancel()
			return
		}
	}
}

func (m *groupMirror) commit(ctx context.Context) {
	os := m.take()
	if len(os) == 0 {
		return
	}
	if err := commitOffsets(ctx, m.adm, m.group, os); err != nil {
		// For monitoring only: the target's offsets table is the truth,
		// and the next batch's commit carries these partitions' newer
		// offsets (or these, when none moved).
		m.mu.Lock()
		if m.pending == nil {
			m.pending = kadm.Offsets{}
		}
		for t, ps := range os {
			for p, o := range ps {
				if _, ok := m.pending.Lookup(t, p); !ok {
					m.pending.Add(o)
				}
			}
		}
		m.mu.Unlock()
		m.log.Debug("commit group offsets (monitoring only)", "group", m.group, "err", err)
		if m.ctx.Err() != nil {
			return // stopping: the last commit carries them
		}
		time.AfterFunc(time.Second, func() {
			select {
			case m.wake <- struct{}{}:
			default:
			}
		})
	}
}

// stop commits what was handed over, within m.final, and returns
// once the mirror is done.
func (m *groupMirror) stop() {
	m.cancel()
	close(m.quit)
	<-m.done
}
