package daemon

import (
	"reflect"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/change"
	"github.com/sluice-cdc/sluice/internal/pipeline"
	"github.com/sluice-cdc/sluice/sources"
)

// The metered writer stands in for a pipeline.SourceWriter in front of the
// sources, which type-assert it for optional methods (WriteRaw): it must
// forward every method the writer has, or a source would silently lose a
// capability when a method is added to the writer.
func TestMeteredWriterForwardsEveryWriterMethod(t *testing.T) {
	var _ sources.Emitter = (*meteredWriter)(nil)
	w := reflect.TypeFor[*pipeline.SourceWriter]()
	mw := reflect.TypeFor[*meteredWriter]()
	for i := range w.NumMethod() {
		m := w.Method(i)
		got, ok := mw.MethodByName(m.Name)
		if !ok {
			t.Errorf("meteredWriter lacks %s%s", m.Name, m.Type.String()[len("func(*pipeline.SourceWriter"):])
			continue
		}
		// Compare the signatures without the receiver.
		if got.Type.NumIn() != m.Type.NumIn() || got.Type.NumOut() != m.Type.NumOut() {
			t.Errorf("%s: signature %s, writer's %s", m.Name, got.Type, m.Type)
			continue
		}
		for j := 1; j < m.Type.NumIn(); j++ {
			if got.Type.In(j) != m.Type.In(j) {
				t.Errorf("%s: parameter %d is %s, writer's %s", m.Name, j, got.Type.In(j), m.Type.In(j))
			}
		}
	}
}

func TestTableLabel(t *testing.T) {
	for _, c := range []struct {
		e    change.Event
		want string
	}{
		{change.Event{Topic: "p.public.t", Source: change.Source{Schema: "public", Table: "t"}}, "public.t"},
		{change.Event{Topic: "m.shop.t", Source: change.Source{DB: "shop", Table: "t"}}, "shop.t"},
		{change.Event{Topic: "p"}, "p"},
	} {
		if got := tableLabel(&c.e); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e.Source, got, c.want)
		}
	}
}

func TestRateWindow(t *testing.T) {
	var r rateWindow
	if r.perSecond() != 0 {
		t.Fatal("empty window")
	}
	t0 := time.Unix(1000, 0)
	for i := range 10 {
		r.add(t0.Add(time.Duration(i)*2*time.Second), int64(i*100))
	}
	// The last 6 samples span 10s and 500 events.
	if got := r.perSecond(); got != 50 {
		t.Errorf("rate %v, want 50", got)
	}
}
