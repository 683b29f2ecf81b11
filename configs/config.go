package configs

// Struct tags used by this package, besides `yaml:"name"` (the contract):
//
//	default:"..."      value applied by ApplyDefaults when the key is absent
//	only:"a,b"         key is valid only when the enclosing Type is one of a, b
//	secret:"true"      value is replaced by "*****" when redacted
//	secret:"dsn"       the password inside the DSN/URL is replaced when redacted
//	interpolate:"false" ${...} is left as written (templates such as ${topic})
//	split:","          a scalar is accepted and split on commas
//	empty:"keep"       an explicit empty string is a value, not "use the default"

// Connector types.
const (
	SourcePostgres    = "postgres"
	SourceMySQL       = "mysql"
	SinkElasticsearch = "elasticsearch"
	SinkSQL           = "sql"
)

// RedactedValue is the text that replaces secrets in redacted output.
const RedactedValue = "*****"

// Default values that are not expressed as struct tags.
const (
	// DefaultKafkaListen is where the embedded broker listens when
	// kafka.brokers is empty.
	DefaultKafkaListen = "127.0.0.1:9092"
)

// Config is the root of a sluice configuration file.
type Config struct {
	// StateDir holds the embedded broker's data and other local state.
	StateDir string `yaml:"state_dir" default:"./data"`
	// ShutdownTimeout is the grace period for flushing and committing on
	// SIGTERM.
	ShutdownTimeout Duration `yaml:"shutdown_timeout" default:"30s"`
	// Log configures log/slog output.
	Log Log `yaml:"log"`
	// Kafka configures the Kafka client, or the embedded broker when
	// Brokers is empty.
	Kafka Kafka `yaml:"kafka"`
	// API configures the REST API.
	API API `yaml:"api"`
	// Sources are the change-data-capture connectors.
	Sources []Source `yaml:"sources"`
	// Sinks are the connectors that materialise topics elsewhere.
	Sinks []Sink `yaml:"sinks"`

	// meta records where each key was written; nil for a Config built in Go.
	meta *meta
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level" default:"info"`
	// Format is auto (JSON unless stderr is a terminal), json or text.
	Format string `yaml:"format" default:"auto"`
}

// Kafka configures the connection to Kafka, or the embedded broker.
type Kafka struct {
	// Brokers are host:port seed brokers. Empty starts the embedded broker.
	// A single comma-separated string is accepted too.
	Brokers []string `yaml:"brokers" split:","`
	// Listen is the embedded broker's listen address; it defaults to
	// DefaultKafkaListen when Brokers is empty.
	Listen string `yaml:"listen"`
	// ClientID is the Kafka client id.
	ClientID string `yaml:"client_id" default:"sluice"`
	// SASL authentication; unused when Mechanism is empty.
	SASL SASL `yaml:"sasl"`
	// TLS for the broker connections.
	TLS TLS `yaml:"tls"`
	// Topic holds the settings used for topics sluice creates.
	Topic TopicDefaults `yaml:"topic"`
	// OffsetsTopic is the compacted topic holding source offsets.
	OffsetsTopic string `yaml:"offsets_topic" default:"sluice.offsets"`
	// Compression is the producers' batch compression: lz4 (default),
	// snappy, zstd, gzip or none. Records in JSON with schemas repeat their
	// schema block, which one LZ4 match covers: lz4 batches are a third the
	// size of snappy's (the broker writes and serves a third of the bytes)
	// for half again snappy's CPU; zstd shrinks them further for several
	// times the CPU. Compressing costs less CPU than writing the bytes
	// saves (bench: snapshots and MySQL streaming ran up to twice as fast
	// as with none).
	Compression string `yaml:"compression" default:"lz4"`
}

// SASL configures Kafka SASL authentication.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty disables SASL.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password" secret:"true"`
}

// TLS configures TLS towards Kafka.
type TLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of trusted CAs; empty uses the system pool.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key, both or
	// neither.
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// TopicDefaults are the settings of topics sluice auto-creates.
type TopicDefaults struct {
	// Partitions per topic, at least 1.
	Partitions int `yaml:"partitions" default:"1"`
	// ReplicationFactor, or -1 for the broker's default.
	ReplicationFactor int `yaml:"replication_factor" default:"-1"`
	// Configs are topic-level configs (cleanup.policy, retention.ms, ...);
	// any key is accepted and passed to Kafka as is.
	Configs map[string]string `yaml:"configs"`
}

// API configures the REST API.
type API struct {
	// Listen is the API's address; an explicit "" disables the API.
	Listen string `yaml:"listen" default:"127.0.0.1:8083" empty:"keep"`
	// TokenFile holds a bearer token required by the API; empty means no
	// authentication.
	TokenFile string `yaml:"token_file"`
	// TLS serves the API over HTTPS when CertFile and KeyFile are set.
	TLS APITLS `yaml:"tls"`
}

// APITLS is the REST API's server certificate.
type APITLS struct {
	// CertFile and KeyFile are a PEM certificate (chain) and its key, both
	// or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Source is a change-data-capture connector reading a Postgres or MySQL
// database. Field comments name the types a field is valid for when it is
// type-specific; setting it for another type is a validation error.
type Source struct {
	// Name identifies the connector; unique across sources and sinks,
	// [a-zA-Z0-9._-]+.
	Name string `yaml:"name"`
	// Type is SourcePostgres or SourceMySQL.
	Type string `yaml:"type"`
	// DSN is the connection string: postgres://, postgresql:// or key=value
	// for Postgres, mysql:// for MySQL. It may hold a password.
	DSN string `yaml:"dsn" secret:"dsn"`
	// Tables is the include list: regexes anchored on the whole
	// schema.table (Postgres) or db.table (MySQL) name. Empty means all.
	Tables []string `yaml:"tables"`
	// ExcludeTables are regexes of tables to leave out.
	ExcludeTables []string `yaml:"exclude_tables"`
	// TopicPrefix prefixes every topic name; defaults to Name.
	TopicPrefix string `yaml:"topic_prefix"`
	// Snapshot is initial, never, initial_only or when_needed.
	Snapshot string `yaml:"snapshot" default:"initial"`
	// SnapshotFetchSize is the number of rows per snapshot chunk.
	SnapshotFetchSize int `yaml:"snapshot.fetch.size" default:"10000"`
	// SnapshotLockingMode is minimal or none. MySQL only.
	SnapshotLockingMode string `yaml:"snapshot.locking.mode" only:"mysql" default:"minimal"`
	// SlotName is the replication slot; defaults to DefaultSlotName(Name).
	// Postgres only.
	SlotName string `yaml:"slot_name" only:"postgres"`
	// PublicationName defaults to SlotName. Postgres only.
	PublicationName string `yaml:"publication_name" only:"postgres"`
	// PublicationAutocreateMode is filtered, all_tables or disabled (reuse
	// an existing publication). Postgres only.
	PublicationAutocreateMode string `yaml:"publication.autocreate.mode" only:"postgres" default:"filtered"`
	// ServerID is the replica server id; defaults to DefaultServerID(Name).
	// MySQL only.
	ServerID uint32 `yaml:"server_id" only:"mysql"`
	// GTID is auto, on or off. MySQL only.
	GTID string `yaml:"gtid" only:"mysql" default:"auto"`
	// HeartbeatInterval between heartbeat messages; 0 disables them.
	HeartbeatInterval Duration `yaml:"heartbeat.interval"`
	// HeartbeatActionQuery is SQL run on each heartbeat (needs
	// HeartbeatInterval > 0).
	HeartbeatActionQuery string `yaml:"heartbeat.action.query"`
	// DecimalHandlingMode is precise, double or string.
	DecimalHandlingMode string `yaml:"decimal.handling.mode" default:"precise"`
	// TimePrecisionMode is adaptive, adaptive_time_microseconds or connect;
	// empty means the connector type's Debezium default (Postgres:
	// adaptive, MySQL: adaptive_time_microseconds).
	TimePrecisionMode string `yaml:"time.precision.mode"`
	// IntervalHandlingMode is numeric or string.
	IntervalHandlingMode string `yaml:"interval.handling.mode" default:"numeric"`
	// BinaryHandlingMode is bytes, base64 or hex.
	BinaryHandlingMode string `yaml:"binary.handling.mode" default:"bytes"`
	// BigIntUnsignedHandlingMode is long (BIGINT UNSIGNED as int64; values
	// above 2^63-1 wrap) or precise (Decimal with scale 0). MySQL only.
	BigIntUnsignedHandlingMode string `yaml:"bigint.unsigned.handling.mode" only:"mysql" default:"long"`
	// TinyInt1AsBoolean maps TINYINT(1) (BOOL, BOOLEAN) columns to booleans,
	// as Debezium's TinyIntOneToBooleanConverter; otherwise INT16. MySQL
	// only.
	TinyInt1AsBoolean bool `yaml:"tinyint1_as_boolean" only:"mysql"`
	// SkipUnparseableDDL logs and skips DDL statements the parser cannot
	// read instead of failing the connector (Debezium's
	// schema.history.internal.skip.unparseable.ddl). MySQL only.
	SkipUnparseableDDL bool `yaml:"schema.history.internal.skip.unparseable.ddl" only:"mysql"`
	// IncludeQuery fills source.query of streamed events with the statement
	// that produced them; needs binlog_rows_query_log_events (MySQL) or
	// binlog_annotate_row_events (MariaDB) on the server. MySQL only.
	IncludeQuery bool `yaml:"include.query" only:"mysql"`
	// TombstonesOnDelete emits a null-valued record after each delete.
	TombstonesOnDelete bool `yaml:"tombstones.on.delete" default:"true"`
	// Schemas includes the JSON converter's schema block.
	Schemas bool `yaml:"schemas" default:"true"`
	// ProvideTransactionMetadata emits BEGIN/END transaction events.
	ProvideTransactionMetadata bool `yaml:"provide.transaction.metadata"`
	// UnavailableValuePlaceholder replaces unchanged TOASTed values.
	UnavailableValuePlaceholder string `yaml:"unavailable.value.placeholder" default:"__debezium_unavailable_value"`
	// MessageKeyColumns maps a table regex to the columns forming the
	// message key. Debezium's string form "db.t1:c1,c2;db.t2:c3" is accepted
	// too.
	MessageKeyColumns map[string][]string `yaml:"message.key.columns"`
	// IncludeUnknownDatatypes emits columns of unknown types as bytes
	// instead of dropping them.
	IncludeUnknownDatatypes bool `yaml:"include.unknown.datatypes"`
	// ExactlyOnce writes each batch and the source offset in one Kafka
	// transaction (and fences a second instance). false writes without
	// transactions: at-least-once, a crash repeats the last batch.
	ExactlyOnce bool `yaml:"exactly_once" default:"true"`
	// MaxBatchSize is the most events per Kafka transaction.
	MaxBatchSize int `yaml:"max_batch_size" default:"2048"`
	// MaxBatchWait is how long a batch may wait to fill; 0 sends at once.
	MaxBatchWait Duration `yaml:"max_batch_wait" default:"50ms"`
	// Transforms are applied in order to every event.
	Transforms []Transform `yaml:"transforms"`
}

// Sink is a connector that reads topics and writes them to Elasticsearch or
// a SQL database. Type-specific fields are marked; setting one for the other
// type is a validation error.
type Sink struct {
	// Name identifies the connector; unique across sources and sinks,
	// [a-zA-Z0-9._-]+.
	Name string `yaml:"name"`
	// Type is SinkElasticsearch or SinkSQL.
	Type string `yaml:"type"`
	// Topics are topic names or regexes anchored on the whole name.
	Topics []string `yaml:"topics"`
	// Transforms are applied in order to every record read.
	Transforms []Transform `yaml:"transforms"`
	// ErrorsTolerance is none (fail the connector) or all (skip, or send to
	// the dead-letter topic).
	ErrorsTolerance string `yaml:"errors.tolerance" default:"none"`
	// ErrorsDeadLetterQueueTopicName receives records that cannot be
	// written; needs ErrorsTolerance all.
	ErrorsDeadLetterQueueTopicName string `yaml:"errors.deadletterqueue.topic.name"`

	// URLs of the Elasticsearch nodes (http or https; may carry
	// credentials). A comma-separated string is accepted too.
	// Elasticsearch only.
	URLs []string `yaml:"urls" only:"elasticsearch" secret:"dsn" split:","`
	// Index is the index name template; empty means the topic name lower-
	// cased. Not interpolated. Elasticsearch only.
	Index string `yaml:"index" only:"elasticsearch" interpolate:"false"`
	// Username and Password for basic authentication. Elasticsearch only.
	Username string `yaml:"username" only:"elasticsearch"`
	Password string `yaml:"password" only:"elasticsearch" secret:"true"`
	// APIKey is an encoded Elasticsearch API key. Elasticsearch only.
	APIKey string `yaml:"api_key" only:"elasticsearch" secret:"true"`
	// TLS for the Elasticsearch connection. Elasticsearch only.
	TLS ElasticsearchTLS `yaml:"tls" only:"elasticsearch"`
	// BulkMaxActions is the most actions per bulk request. Elasticsearch only.
	BulkMaxActions int `yaml:"bulk.max_actions" only:"elasticsearch" default:"1000"`
	// BulkMaxBytes is the largest bulk request body. Elasticsearch only.
	BulkMaxBytes int64 `yaml:"bulk.max_bytes" only:"elasticsearch" default:"5242880"`
	// BulkFlushInterval flushes a partial bulk request. Elasticsearch only.
	BulkFlushInterval Duration `yaml:"bulk.flush_interval" only:"elasticsearch" default:"1s"`
	// Concurrency is the number of bulk requests in flight. Elasticsearch
	// only.
	Concurrency int `yaml:"concurrency" only:"elasticsearch" default:"1"`
	// BehaviorOnNullValues is delete, ignore or fail. Elasticsearch only.
	BehaviorOnNullValues string `yaml:"behavior.on.null.values" only:"elasticsearch" default:"delete"`
	// IndexTemplate is a JSON file holding a composable index template
	// (index_patterns, template, priority), installed as
	// _index_template/sluice-<name> when the sink starts; indices the sink
	// creates then take their mappings from it. Elasticsearch only.
	IndexTemplate string `yaml:"index_template" only:"elasticsearch"`

	// AutoCreate creates missing indices (Elasticsearch) or tables (SQL).
	AutoCreate bool `yaml:"auto_create" default:"true"`

	// DSN of the target database: postgres://, postgresql://, mysql:// or
	// sqlite://. It may hold a password. SQL only.
	DSN string `yaml:"dsn" only:"sql" secret:"dsn"`
	// Table is the table name template; empty leaves the choice to the sink
	// (the topic name). Not interpolated. SQL only.
	Table string `yaml:"table" only:"sql" interpolate:"false"`
	// Schema is the target schema; empty means the connection's default.
	// SQL only.
	Schema string `yaml:"schema" only:"sql"`
	// InsertMode is insert, upsert or update. SQL only.
	InsertMode string `yaml:"insert_mode" only:"sql" default:"upsert"`
	// DeleteEnabled turns deletes and tombstones into DELETEs. SQL only.
	DeleteEnabled bool `yaml:"delete_enabled" only:"sql" default:"true"`
	// PrimaryKeyMode is record_key or record_value. SQL only.
	PrimaryKeyMode string `yaml:"primary_key.mode" only:"sql" default:"record_key"`
	// PrimaryKeyFields restricts the primary key to these fields; empty
	// means all fields of the key (or value). SQL only.
	PrimaryKeyFields []string `yaml:"primary_key.fields" only:"sql"`
	// AutoEvolve adds columns that appear in records. SQL only.
	AutoEvolve bool `yaml:"auto_evolve" only:"sql"`
	// BatchSize is the most records per database transaction. A batch
	// holds what was fetched while the previous one was being written: a
	// sink that keeps up writes each fetch at once, a backlog goes in
	// batches of BatchSize. (Kafka Connect's JDBC sink: batch.size 3000,
	// in practice capped by its consumer's max.poll.records, 500.) Up to
	// three batches are held decoded; 2000 keeps a backlog's memory
	// around 120 MB. SQL only.
	BatchSize int `yaml:"batch_size" only:"sql" default:"2000"`
}

// ElasticsearchTLS configures TLS towards Elasticsearch. TLS is used when
// a URL's scheme is https.
type ElasticsearchTLS struct {
	// CAFile is a PEM bundle of trusted CAs; empty uses the system pool.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key, both or
	// neither.
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Transform is one entry of a transforms list: its type and its other keys,
// kept free-form for the transforms package to validate. The position
// fields say where the entry was written so that later validation can
// report file:line (see Errorf).
type Transform struct {
	// Type names the transform (the required `type` key).
	Type string
	// Options are the entry's other keys, decoded as YAML values (string,
	// int, float64, bool, nil, []any, map[string]any) after interpolation.
	Options map[string]any

	// File, Line and Column locate the entry; Key is its dotted path such
	// as "sources[0].transforms[1]". Zero for a Transform built in Go.
	File         string
	Key          string
	Line, Column int
}

// Errorf returns an *Error located at the transform entry.
func (t Transform) Errorf(format string, args ...any) *Error {
	return &Error{File: t.File, Line: t.Line, Column: t.Column, Key: t.Key, Msg: sprintf(format, args...)}
}
