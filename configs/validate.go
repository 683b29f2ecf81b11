package configs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Validate checks c and returns Errors listing every problem, or nil.
// Load and Parse already validate; a Config built in Go should get
// ApplyDefaults first. Positions are known only for a parsed Config.
func (c *Config) Validate() error { return c.validate().errOrNil() }

// Enumerated values.
var (
	logLevels           = []string{"debug", "info", "warn", "error"}
	logFormats          = []string{"auto", "json", "text"}
	saslMechanisms      = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
	compressionCodecs   = []string{"none", "gzip", "snappy", "lz4", "zstd"}
	sourceTypes         = []string{SourcePostgres, SourceMySQL}
	sinkTypes           = []string{SinkElasticsearch, SinkSQL}
	snapshotModes       = []string{"initial", "never", "initial_only", "when_needed"}
	lockingModes        = []string{"minimal", "none"}
	publicationModes    = []string{"filtered", "all_tables", "disabled"}
	gtidModes           = []string{"auto", "on", "off"}
	bigintUnsignedModes = []string{"long", "precise"}
	decimalModes        = []string{"precise", "double", "string"}
	timePrecisionModes  = []string{"adaptive", "adaptive_time_microseconds", "connect"}
	intervalModes       = []string{"numeric", "string"}
	binaryModes         = []string{"bytes", "base64", "hex"}
	errorTolerances     = []string{"none", "all"}
	nullValueBehaviors  = []string{"delete", "ignore", "fail"}
	insertModes         = []string{"insert", "upsert", "update"}
	primaryKeyModes     = []string{"record_key", "record_value"}
	sqlSinkSchemes      = []string{"postgres", "postgresql", "mysql", "sqlite"}
	connectorNameRe     = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	topicNameRe         = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	slotNameRe          = regexp.MustCompile(`^[a-z0-9_]+$`)
	bareIdentifierRe    = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	urlSchemeRe         = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*$`)
	maxKafkaTopicLength = 249
)

type validator struct {
	m    *meta
	errs Errors
}

func (v *validator) add(pos position, path, format string, args ...any) {
	if v.m.isBad(path) {
		return // already reported by the decoder
	}
	v.errs = append(v.errs, &Error{File: v.m.fileName(), Line: pos.line, Column: pos.col, Key: path, Msg: sprintf(format, args...)})
}

// at reports a problem with the value at path.
func (v *validator) at(path, format string, args ...any) {
	v.add(v.m.valPos(path), path, format, args...)
}

// atKey reports a problem with the key at path itself.
func (v *validator) atKey(path, format string, args ...any) {
	v.add(v.m.keyPos(path), path, format, args...)
}

// require reports parent.key as missing (at the parent mapping) or empty
// (at the key) when empty is true, and returns !empty.
func (v *validator) require(parent, key string, empty bool) bool {
	if !empty {
		return true
	}
	p := joinPath(parent, key)
	switch {
	case v.m.isBad(p):
	case v.m.hasKey(p):
		v.at(p, "must not be empty")
	default:
		v.add(v.m.valPos(parent), parent, "missing required key %q", key)
	}
	return false
}

func (v *validator) enum(path, val string, allowed []string) bool {
	if slices.Contains(allowed, val) {
		return true
	}
	v.at(path, "invalid value %s: must be one of %s%s", quoteValue(val), strings.Join(allowed, ", "), didYouMean(suggest(val, allowed)))
	return false
}

func (v *validator) atLeast(path string, n int64, lo int64) {
	if n < lo {
		v.at(path, "must be at least %d, got %d", lo, n)
	}
}

func (v *validator) regex(path, re string) {
	if re == "" {
		v.at(path, "must not be empty")
		return
	}
	if _, err := regexp.Compile(re); err != nil {
		v.at(path, "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
}

func (v *validator) topicName(path, name string) {
	switch {
	case name == "":
		v.at(path, "must not be empty")
	case len(name) > maxKafkaTopicLength:
		v.at(path, "topic name is longer than %d characters", maxKafkaTopicLength)
	case name == "." || name == ".." || !topicNameRe.MatchString(name):
		v.at(path, "invalid topic name %s: use letters, digits, '.', '_' and '-'", quoteValue(name))
	}
}

// hostPort checks a host:port address; hostOptional allows ":9092".
func (v *validator) hostPort(path, addr string, hostOptional bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		v.at(path, "invalid address %s: want host:port", quoteValue(addr))
		return
	}
	if host == "" && !hostOptional {
		v.at(path, "invalid address %s: host is missing", quoteValue(addr))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.at(path, "invalid address %s: port must be a number from 0 to 65535", quoteValue(addr))
	}
}

// connectorLine describes where a connector was first defined.
func (v *validator) firstDefined(path string) string {
	if pos := v.m.valPos(path); pos.line > 0 {
		return fmt.Sprintf("%s at line %d", parentPath(path), pos.line)
	}
	return parentPath(path)
}

func (c *Config) validate() Errors {
	v := &validator{m: c.meta}
	v.durations(reflect.ValueOf(c).Elem(), "")

	if c.StateDir == "" {
		v.at("state_dir", "must not be empty")
	}
	if c.ShutdownTimeout == 0 {
		v.at("shutdown_timeout", "must be greater than 0")
	}
	v.enum("log.level", c.Log.Level, logLevels)
	v.enum("log.format", c.Log.Format, logFormats)
	v.kafka(&c.Kafka)
	if c.API.Listen != "" {
		v.hostPort("api.listen", c.API.Listen, true)
	}
	v.certPair("api.tls", c.API.TLS.CertFile, c.API.TLS.KeyFile)

	names := map[string]string{}    // connector name -> path of its name key
	prefixes := map[string]string{} // topic prefix -> path of its key
	for i := range c.Sources {
		v.source(&c.Sources[i], indexPath("sources", i), names, prefixes)
	}
	for i := range c.Sinks {
		v.sink(&c.Sinks[i], indexPath("sinks", i), names)
	}
	return v.errs
}

// durations reports negative Duration fields anywhere under v.
func (v *validator) durations(rv reflect.Value, path string) {
	si := structInfoOf(rv.Type())
	for _, f := range si.fields {
		fv := rv.Field(f.index)
		fp := joinPath(path, f.name)
		switch {
		case f.typ == durationType:
			if fv.Int() < 0 {
				v.at(fp, "must not be negative")
			}
		case f.typ.Kind() == reflect.Struct && f.typ != transformType:
			v.durations(fv, fp)
		case f.typ.Kind() == reflect.Slice && f.typ.Elem().Kind() == reflect.Struct && f.typ.Elem() != transformType:
			for i := 0; i < fv.Len(); i++ {
				v.durations(fv.Index(i), indexPath(fp, i))
			}
		}
	}
}

func (v *validator) kafka(k *Kafka) {
	for i, b := range k.Brokers {
		v.hostPort(indexPath("kafka.brokers", i), b, false)
	}
	if len(k.Brokers) == 0 {
		v.hostPort("kafka.listen", k.Listen, true)
	}
	if k.ClientID == "" {
		v.at("kafka.client_id", "must not be empty")
	}
	v.enum("kafka.compression", k.Compression, compressionCodecs)
	if s := k.SASL; s.Mechanism != "" || s.Username != "" || s.Password != "" {
		if v.require("kafka.sasl", "mechanism", s.Mechanism == "") {
			v.enum("kafka.sasl.mechanism", s.Mechanism, saslMechanisms)
		}
		v.require("kafka.sasl", "username", s.Username == "")
		v.require("kafka.sasl", "password", s.Password == "")
	}
	t := k.TLS
	if !t.Enabled {
		for _, f := range []struct {
			key string
			set bool
		}{{"ca_file", t.CAFile != ""}, {"cert_file", t.CertFile != ""}, {"key_file", t.KeyFile != ""}, {"insecure_skip_verify", t.InsecureSkipVerify}} {
			if f.set {
				v.atKey("kafka.tls."+f.key, "has no effect unless kafka.tls.enabled is true")
			}
		}
	}
	v.certPair("kafka.tls", t.CertFile, t.KeyFile)
	v.atLeast("kafka.topic.partitions", int64(k.Topic.Partitions), 1)
	if rf := k.Topic.ReplicationFactor; rf != -1 && (rf < 1 || rf > 32767) {
		v.at("kafka.topic.replication_factor", "must be -1 (the broker's default) or from 1 to 32767, got %d", rf)
	}
	for key := range k.Topic.Configs {
		if key == "" {
			v.at(mapKeyPath("kafka.topic.configs", key), "config names must not be empty")
		}
	}
	v.topicName("kafka.offsets_topic", k.OffsetsTopic)
}

func (v *validator) certPair(path, cert, key string) {
	switch {
	case cert != "" && key == "":
		v.at(path+".cert_file", "needs key_file too")
	case cert == "" && key != "":
		v.at(path+".key_file", "needs cert_file too")
	}
}

// onlyKeys reports type-specific keys set on a connector of another type.
func (v *validator) onlyKeys(rv reflect.Value, path, typ, kind string, types []string) {
	if !slices.Contains(types, typ) {
		return
	}
	si := structInfoOf(rv.Type())
	for _, f := range si.fields {
		if f.validFor(typ) {
			continue
		}
		fp := joinPath(path, f.name)
		if v.m.hasKey(fp) || (v.m == nil && !rv.Field(f.index).IsZero()) {
			v.atKey(fp, "only valid for type %s (this %s is %s)", strings.Join(f.only, " or "), kind, typ)
		}
	}
}

// connector checks the name and type shared by sources and sinks and
// reports whether each is valid.
func (v *validator) connector(path, name, typ string, types []string, names map[string]string) (nameOK, typeOK bool) {
	np := joinPath(path, "name")
	if v.require(path, "name", name == "") {
		if !connectorNameRe.MatchString(name) {
			v.at(np, "invalid name %s: use letters, digits, '.', '_' and '-'", quoteValue(name))
		} else if first, dup := names[name]; dup {
			v.at(np, "duplicate connector name %s (first used by %s)", quoteValue(name), v.firstDefined(first))
		} else {
			names[name] = np
			nameOK = true
		}
	}
	typeOK = v.require(path, "type", typ == "") && v.enum(joinPath(path, "type"), typ, types)
	return nameOK, typeOK
}

func (v *validator) source(s *Source, p string, names, prefixes map[string]string) {
	nameOK, typeOK := v.connector(p, s.Name, s.Type, sourceTypes, names)
	v.onlyKeys(reflect.ValueOf(s).Elem(), p, s.Type, "source", sourceTypes)

	if v.require(p, "dsn", s.DSN == "") && typeOK {
		switch s.Type {
		case SourcePostgres:
			v.dsn(joinPath(p, "dsn"), s.DSN, "a postgres source", []string{"postgres", "postgresql"}, true)
		case SourceMySQL:
			v.dsn(joinPath(p, "dsn"), s.DSN, "a mysql source", []string{"mysql"}, false)
		}
	}
	qualified := map[string]string{SourcePostgres: "schema.table (e.g. public.customers)", SourceMySQL: "database.table (e.g. inventory.customers)"}[s.Type]
	for _, l := range []struct {
		key  string
		list []string
	}{{"tables", s.Tables}, {"exclude_tables", s.ExcludeTables}} {
		for i, t := range l.list {
			ip := indexPath(joinPath(p, l.key), i)
			v.regex(ip, t)
			if qualified != "" && bareIdentifierRe.MatchString(t) {
				v.at(ip, "%s can never match: tables are matched by their full name, %s", quoteValue(t), qualified)
			}
		}
	}
	tp := joinPath(p, "topic_prefix")
	// A prefix defaulted from a bad name was reported with the name.
	if s.TopicPrefix != "" && (nameOK || s.TopicPrefix != s.Name) {
		v.topicName(tp, s.TopicPrefix)
		if first, dup := prefixes[s.TopicPrefix]; dup {
			v.at(tp, "duplicate topic prefix %s (first used by %s)", quoteValue(s.TopicPrefix), v.firstDefined(first))
		} else {
			prefixes[s.TopicPrefix] = tp
		}
	}
	v.enum(joinPath(p, "snapshot"), s.Snapshot, snapshotModes)
	v.atLeast(joinPath(p, "snapshot.fetch.size"), int64(s.SnapshotFetchSize), 1)
	switch s.Type {
	case SourceMySQL:
		v.enum(joinPath(p, "snapshot.locking.mode"), s.SnapshotLockingMode, lockingModes)
		v.enum(joinPath(p, "gtid"), s.GTID, gtidModes)
		v.enum(joinPath(p, "bigint.unsigned.handling.mode"), s.BigIntUnsignedHandlingMode, bigintUnsignedModes)
	case SourcePostgres:
		if s.SlotName != "" && (len(s.SlotName) > maxIdentLen || !slotNameRe.MatchString(s.SlotName)) {
			v.at(joinPath(p, "slot_name"), "invalid replication slot name %s: use at most %d lower-case letters, digits and '_'", quoteValue(s.SlotName), maxIdentLen)
		}
		if len(s.PublicationName) > maxIdentLen {
			v.at(joinPath(p, "publication_name"), "must be at most %d bytes", maxIdentLen)
		}
		v.enum(joinPath(p, "publication.autocreate.mode"), s.PublicationAutocreateMode, publicationModes)
	}
	if s.HeartbeatActionQuery != "" && s.HeartbeatInterval == 0 {
		v.at(joinPath(p, "heartbeat.action.query"), "needs heartbeat.interval greater than 0")
	}
	v.enum(joinPath(p, "decimal.handling.mode"), s.DecimalHandlingMode, decimalModes)
	if s.TimePrecisionMode != "" {
		v.enum(joinPath(p, "time.precision.mode"), s.TimePrecisionMode, timePrecisionModes)
	}
	v.enum(joinPath(p, "interval.handling.mode"), s.IntervalHandlingMode, intervalModes)
	v.enum(joinPath(p, "binary.handling.mode"), s.BinaryHandlingMode, binaryModes)
	kp := joinPath(p, "message.key.columns")
	for _, table := range sortedKeys(s.MessageKeyColumns) {
		tp := mapKeyPath(kp, table)
		if table == "" {
			v.atKey(tp, "table name must not be empty")
		} else {
			v.regex(tp, table)
		}
		cols := s.MessageKeyColumns[table]
		if len(cols) == 0 {
			v.at(tp, "needs at least one column")
		}
		for i, c := range cols {
			if c == "" {
				v.at(indexPath(tp, i), "column name must not be empty")
			}
		}
	}
	v.atLeast(joinPath(p, "max_batch_size"), int64(s.MaxBatchSize), 1)
	v.transforms(joinPath(p, "transforms"), s.Transforms)
}

func (v *validator) sink(s *Sink, p string, names map[string]string) {
	_, typeOK := v.connector(p, s.Name, s.Type, sinkTypes, names)
	v.onlyKeys(reflect.ValueOf(s).Elem(), p, s.Type, "sink", sinkTypes)

	if v.require(p, "topics", len(s.Topics) == 0) {
		for i, t := range s.Topics {
			v.regex(indexPath(joinPath(p, "topics"), i), t)
		}
	}
	v.transforms(joinPath(p, "transforms"), s.Transforms)
	if v.enum(joinPath(p, "errors.tolerance"), s.ErrorsTolerance, errorTolerances) && s.ErrorsDeadLetterQueueTopicName != "" {
		dp := joinPath(p, "errors.deadletterqueue.topic.name")
		v.topicName(dp, s.ErrorsDeadLetterQueueTopicName)
		if s.ErrorsTolerance != "all" {
			v.at(dp, "is only used with errors.tolerance: all")
		}
	}
	if !typeOK {
		return
	}
	switch s.Type {
	case SinkElasticsearch:
		if v.require(p, "urls", len(s.URLs) == 0) {
			for i, u := range s.URLs {
				v.httpURL(indexPath(joinPath(p, "urls"), i), u)
			}
		}
		if (s.Username == "") != (s.Password == "") {
			if s.Username == "" {
				v.require(p, "username", true)
			} else {
				v.require(p, "password", true)
			}
		}
		if s.APIKey != "" && s.Username != "" {
			v.at(joinPath(p, "api_key"), "use either api_key or username and password, not both")
		}
		v.certPair(joinPath(p, "tls"), s.TLS.CertFile, s.TLS.KeyFile)
		v.atLeast(joinPath(p, "bulk.max_actions"), int64(s.BulkMaxActions), 1)
		v.atLeast(joinPath(p, "bulk.max_bytes"), s.BulkMaxBytes, 1)
		v.atLeast(joinPath(p, "concurrency"), int64(s.Concurrency), 1)
		v.enum(joinPath(p, "behavior.on.null.values"), s.BehaviorOnNullValues, nullValueBehaviors)
	case SinkSQL:
		if v.require(p, "dsn", s.DSN == "") {
			v.dsn(joinPath(p, "dsn"), s.DSN, "a sql sink", sqlSinkSchemes, false)
		}
		v.enum(joinPath(p, "insert_mode"), s.InsertMode, insertModes)
		v.enum(joinPath(p, "primary_key.mode"), s.PrimaryKeyMode, primaryKeyModes)
		for i, f := range s.PrimaryKeyFields {
			if f == "" {
				v.at(indexPath(joinPath(p, "primary_key.fields"), i), "must not be empty")
			}
		}
		v.atLeast(joinPath(p, "batch_size"), int64(s.BatchSize), 1)
	}
}

func (v *validator) transforms(path string, ts []Transform) {
	for i, t := range ts {
		v.require(indexPath(path, i), "type", t.Type == "")
	}
}

// dsn checks a DSN's form and scheme. Messages never include the DSN,
// which may hold a password.
func (v *validator) dsn(path, dsn, what string, schemes []string, keyValue bool) {
	want := make([]string, len(schemes))
	for i, s := range schemes {
		want[i] = s + "://"
	}
	wantText := strings.Join(want, ", ")
	if keyValue {
		wantText += " or key=value pairs"
	}
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok || !urlSchemeRe.MatchString(scheme) {
		if keyValue && strings.Contains(dsn, "=") {
			return
		}
		v.at(path, "not a valid DSN for %s: want %s", what, wantText)
		return
	}
	if !slices.Contains(schemes, strings.ToLower(scheme)) {
		v.at(path, "scheme %s is not valid for %s: want %s", quoteValue(scheme), what, wantText)
		return
	}
	if strings.EqualFold(scheme, "sqlite") {
		if rest == "" {
			v.at(path, "sqlite DSN needs a file path (sqlite:///path/to/file.db)")
		}
		return
	}
	if _, err := url.Parse(dsn); err != nil {
		v.at(path, "cannot parse the DSN as a URL (are special characters in the user name or password percent-encoded?)")
	}
}

func (v *validator) httpURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = errors.New("cannot parse the URL")
		}
		v.at(path, "%v (are special characters in the user name or password percent-encoded?)", err)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		v.at(path, "URL scheme must be http or https")
		return
	}
	if u.Host == "" {
		v.at(path, "URL has no host")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
