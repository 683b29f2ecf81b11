package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/configs"
)

// cmdTail prints a topic's records as JSON lines:
// {"topic","partition","offset","timestamp","key","value","headers"}.
func cmdTail(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	brokers := fs.String("brokers", "", "comma-separated brokers (default: from -c, or 127.0.0.1:9092)")
	from := fs.String("from", "beginning", "where to start: beginning | end")
	follow := fs.Bool("f", true, "keep waiting for new records (false: stop at the end of the topic)")
	limit := fs.Int("n", 0, "stop after N records (0: no limit)")
	uncommitted := fs.Bool("read-uncommitted", false, "also show records of open or aborted transactions")
	summary := fs.Bool("summary", false, "print one short line per change (op, key, before, after) instead of the whole record")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sluice tail [-c FILE | -brokers LIST] [-from beginning|end] [-f=false] [-n N] TOPIC")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	topic := fs.Arg(0)
	seeds := []string{configs.DefaultKafkaListen}
	var opts []kgo.Opt
	switch {
	case *brokers != "":
		seeds = strings.Split(*brokers, ",")
	case *path != "":
		cfg, err := configs.Load(*path)
		if err != nil {
			return err
		}
		ko := kafkaOptionsFor(cfg)
		o, err := ko.ClientOpts()
		if err != nil {
			return err
		}
		opts = o
		seeds = nil
	}
	if seeds != nil {
		opts = []kgo.Opt{kgo.SeedBrokers(seeds...)}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	start := kgo.NewOffset().AtStart()
	if *from == "end" {
		start = kgo.NewOffset().AtEnd()
	} else if *from != "beginning" {
		return fmt.Errorf("%w: -from must be beginning or end", errUsage)
	}
	iso := kgo.ReadCommitted()
	if *uncommitted {
		iso = kgo.ReadUncommitted()
	}
	// Where the topic ends now, to stop there without -f.
	var ends map[int32]int64
	if !*follow {
		adm, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		lo, err := kadm.NewClient(adm).ListCommittedOffsets(ctx, topic)
		adm.Close()
		if err == nil {
			err = lo.Error()
		}
		if err != nil {
			return fmt.Errorf("list offsets of %s: %w", topic, err)
		}
		ends = map[int32]int64{}
		lo.Each(func(o kadm.ListedOffset) {
			if o.Offset > 0 {
				ends[o.Partition] = o.Offset
			}
		})
		if len(ends) == 0 || *from == "end" {
			return nil
		}
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(start),
		kgo.FetchIsolationLevel(iso),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	n := 0
	var line bytes.Buffer
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("fetch %s/%d: %w", t, p, err) })
		if ferr != nil {
			return ferr
		}
		for _, r := range fetches.Records() {
			if end, ok := ends[r.Partition]; ok && r.Offset+1 >= end {
				delete(ends, r.Partition)
			}
			if r.Attrs.IsControl() {
				continue
			}
			line.Reset()
			if *summary {
				writeSummary(&line, r)
			} else {
				writeRecordJSON(&line, r)
			}
			if _, err := stdout.Write(line.Bytes()); err != nil {
				return err
			}
			n++
			if *limit > 0 && n >= *limit {
				return nil
			}
		}
		if ends != nil && len(ends) == 0 {
			return nil
		}
	}
}

func writeRecordJSON(buf *bytes.Buffer, r *kgo.Record) {
	buf.WriteString(`{"topic":`)
	writeJSONString(buf, r.Topic)
	fmt.Fprintf(buf, `,"partition":%d,"offset":%d,"timestamp":%q,"key":`, r.Partition, r.Offset, r.Timestamp.UTC().Format(time.RFC3339Nano))
	writeRaw(buf, r.Key)
	buf.WriteString(`,"value":`)
	writeRaw(buf, r.Value)
	if len(r.Headers) > 0 {
		buf.WriteString(`,"headers":{`)
		for i, h := range r.Headers {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, h.Key)
			buf.WriteByte(':')
			writeJSONString(buf, string(h.Value))
		}
		buf.WriteByte('}')
	}
	buf.WriteString("}\n")
}

// writeRaw embeds b as JSON when it is JSON, as a JSON string otherwise,
// and null when absent.
func writeRaw(buf *bytes.Buffer, b []byte) {
	if b == nil {
		buf.WriteString("null")
		return
	}
	if json.Valid(b) {
		if err := json.Compact(buf, b); err == nil {
			return
		}
	}
	writeJSONString(buf, string(b))
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}

// writeSummary prints a change record as "op key before -> after".
func writeSummary(buf *bytes.Buffer, r *kgo.Record) {
	key := payloadOf(r.Key)
	if r.Value == nil {
		fmt.Fprintf(buf, "tombstone  key=%s\n", compact(key))
		return
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(payloadOf(r.Value), &v); err != nil {
		buf.Write(r.Value)
		buf.WriteByte('\n')
		return
	}
	var op string
	_ = json.Unmarshal(v["op"], &op)
	switch {
	case op != "":
		fmt.Fprintf(buf, "op=%s  key=%s  before=%s  after=%s\n", op, compact(key), compact(v["before"]), compact(v["after"]))
	case v["ddl"] != nil || v["tableChanges"] != nil:
		fmt.Fprintf(buf, "schema change  key=%s  ddl=%s\n", compact(key), compact(v["ddl"]))
	default:
		fmt.Fprintf(buf, "key=%s  value=%s\n", compact(key), compact(payloadOf(r.Value)))
	}
}

// payloadOf returns the "payload" of a JSON-with-schema message, or b.
func payloadOf(b []byte) []byte {
	var env struct {
		Schema  json.RawMessage `json:"schema"`
		Payload json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(b, &env) == nil && env.Schema != nil && env.Payload != nil {
		return env.Payload
	}
	return b
}

func compact(b []byte) string {
	if b == nil {
		return "null"
	}
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}
