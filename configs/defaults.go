package configs

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"strings"
)

// ApplyDefaults fills in every setting that was not given. Load and Parse
// call it; call it yourself for a Config built in Go.
//
// A key written in the file keeps its value, even a zero one
// (`max_batch_wait: 0`, `tombstones.on.delete: false`); an empty string or
// null counts as not given (except api.listen, where "" disables the API).
// A Config built in Go has no record of what was written, so its zero
// values are all replaced: set booleans that default to true
// (TombstonesOnDelete, Schemas, AutoCreate, DeleteEnabled) after calling
// ApplyDefaults.
//
// Besides the per-field defaults documented on the struct fields, it sets
// Kafka.Listen to DefaultKafkaListen when Kafka.Brokers is empty,
// Source.TopicPrefix to Name, and for Postgres sources SlotName to
// DefaultSlotName(Name) and PublicationName to SlotName, and for MySQL
// sources ServerID to DefaultServerID(Name).
func (c *Config) ApplyDefaults() {
	applyDefaults(reflect.ValueOf(c).Elem(), "", c.meta)
	if len(c.Kafka.Brokers) == 0 && c.Kafka.Listen == "" {
		c.Kafka.Listen = DefaultKafkaListen
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.TopicPrefix == "" {
			s.TopicPrefix = s.Name
		}
		switch s.Type {
		case SourcePostgres:
			if s.SlotName == "" && s.Name != "" {
				s.SlotName = DefaultSlotName(s.Name)
			}
			if s.PublicationName == "" {
				s.PublicationName = s.SlotName
			}
		case SourceMySQL:
			if s.ServerID == 0 && s.Name != "" {
				s.ServerID = DefaultServerID(s.Name)
			}
		}
	}
}

// applyDefaults sets tagged defaults on the struct v (at path) and recurses
// into nested structs and lists of structs.
func applyDefaults(v reflect.Value, path string, m *meta) {
	si := structInfoOf(v.Type())
	typ := si.connType(v)
	for _, f := range si.fields {
		fv := v.Field(f.index)
		fp := joinPath(path, f.name)
		switch {
		case f.hasDef:
			if fv.IsZero() && !m.isSet(fp) && f.validFor(typ) {
				fv.Set(f.def)
			}
		case f.typ.Kind() == reflect.Struct && f.typ != durationType && f.typ != transformType:
			applyDefaults(fv, fp, m)
		case f.typ.Kind() == reflect.Slice && f.typ.Elem().Kind() == reflect.Struct && f.typ.Elem() != transformType:
			for i := 0; i < fv.Len(); i++ {
				applyDefaults(fv.Index(i), indexPath(fp, i), m)
			}
		}
	}
}

// DefaultSlotName is the replication slot name used for a Postgres source
// without slot_name: "sluice_" + the lower-cased name with every character
// outside [a-z0-9_] replaced by '_', shortened (with a hash suffix) to
// Postgres's 63-byte limit.
func DefaultSlotName(name string) string {
	s := "sluice_" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(name))
	if len(s) > maxIdentLen {
		s = fmt.Sprintf("%s_%08x", s[:maxIdentLen-9], fnv32(name))
	}
	return s
}

// maxIdentLen is Postgres's identifier limit (NAMEDATALEN-1).
const maxIdentLen = 63

// DefaultServerID is the replica server id used for a MySQL source without
// server_id: a hash of the name in [1000, 2^31).
func DefaultServerID(name string) uint32 {
	const lo, hi = 1000, 1 << 31
	return lo + fnv32(name)%(hi-lo)
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
