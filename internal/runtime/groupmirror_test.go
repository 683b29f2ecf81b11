package runtime

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestGroupMirrorStopsWithBrokerDown: with the broker not answering, a
// commit in flight does not hold the sink's stop up: stop gives up on it
// and on the last commit within the last commit's bound.
func TestGroupMirrorStopsWithBrokerDown(t *testing.T) {
	// A broker that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	m := startGroupMirror(kadm.NewClient(cl), "sluice-down", slog.New(slog.DiscardHandler))
	m.final = 300 * time.Millisecond
	m.add([]*kgo.Record{{Topic: "t", Partition: 0, Offset: 41}})
	time.Sleep(100 * time.Millisecond) // the commit is in flight
	start := time.Now()
	m.stop()
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("stop took %s with the broker down, want about the last commit's bound (%s)", el, m.final)
	}
	if os := m.take(); os == nil {
		t.Error("the offsets that could not be committed were dropped from pending")
	}
}
