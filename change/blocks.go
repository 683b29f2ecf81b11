package change

// Fixed schemas of the Debezium blocks the codec writes around row data, as
// Debezium 3.6 builds them (io.debezium.schema.SchemaFactory,
// PostgresSourceInfoStructMaker, BinlogSourceInfoStructMaker,
// ConnectTableChangeSerializer). Field order matters: the JSON converter
// writes struct fields in schema order.

type connKind uint8

const (
	connUnknown connKind = iota
	connPostgres
	connMySQL
	numConn
)

func connectorKind(name string) connKind {
	switch name {
	case ConnectorPostgres:
		return connPostgres
	case ConnectorMySQL:
		return connMySQL
	}
	return connUnknown
}

func (k connKind) String() string {
	switch k {
	case connPostgres:
		return ConnectorPostgres
	case connMySQL:
		return ConnectorMySQL
	}
	return "unknown"
}

func field(name string, s *Schema) Field { return Field{Name: name, Schema: s} }

func reqString() *Schema { return PrimitiveSchema(TypeString, false) }
func optString() *Schema { return PrimitiveSchema(TypeString, true) }
func reqInt64() *Schema  { return PrimitiveSchema(TypeInt64, false) }
func optInt64() *Schema  { return PrimitiveSchema(TypeInt64, true) }
func reqInt32() *Schema  { return PrimitiveSchema(TypeInt32, false) }
func optInt32() *Schema  { return PrimitiveSchema(TypeInt32, true) }
func optBool() *Schema   { return PrimitiveSchema(TypeBoolean, true) }

// snapshotSchema is SchemaFactory.snapshotRecordSchema(): an optional
// io.debezium.data.Enum with default "false".
func snapshotSchema() *Schema {
	s := EnumSchema(nil, true)
	s.Parameters[EnumAllowedParam] = SnapshotValues
	s.Default, s.HasDefault = "false", true
	return s
}

// commonSourceFields is SchemaFactory.sourceInfoSchemaBuilder().
func commonSourceFields() []Field {
	return []Field{
		field("version", reqString()),
		field("connector", reqString()),
		field("name", reqString()),
		field("ts_ms", reqInt64()),
		field("snapshot", snapshotSchema()),
		field("db", reqString()),
		field("sequence", optString()),
		field("ts_us", optInt64()),
		field("ts_ns", optInt64()),
	}
}

func newSourceSchema(k connKind) *Schema {
	s := &Schema{Type: TypeStruct, Version: SourceVersion, Fields: commonSourceFields()}
	switch k {
	case connPostgres:
		s.Name = "io.debezium.connector.postgresql.Source"
		s.Fields = append(s.Fields,
			field("schema", reqString()),
			field("table", reqString()),
			field("txId", optInt64()),
			field("lsn", optInt64()),
			field("xmin", optInt64()),
			field("origin", optString()),
			field("origin_lsn", optInt64()),
		)
	case connMySQL:
		s.Name = "io.debezium.connector.mysql.Source"
		s.Fields = append(s.Fields,
			field("table", optString()),
			field("server_id", reqInt64()),
			field("gtid", optString()),
			field("file", reqString()),
			field("pos", reqInt64()),
			field("row", reqInt32()),
			field("thread", optInt64()),
			field("query", optString()),
		)
	default:
		return nil
	}
	return s
}

// newTransactionBlockSchema is SchemaFactory.transactionBlockSchema().
func newTransactionBlockSchema() *Schema {
	return &Schema{
		Type: TypeStruct, Optional: true, Name: TransactionBlockName, Version: TransactionBlockVersion,
		Fields: []Field{
			field("id", reqString()),
			field("total_order", reqInt64()),
			field("data_collection_order", reqInt64()),
		},
	}
}

// newEnvelopeSchema is Envelope.defineSchema() as TableSchemaBuilder uses it:
// before, after, source, transaction, op, ts_ms, ts_us, ts_ns. row is
// written optional whatever its Optional flag (see Event.RowSchema).
func newEnvelopeSchema(name string, row *Schema, k connKind) *Schema {
	rowOpt := row
	if !row.Optional {
		c := *row
		c.Optional = true
		rowOpt = &c
	}
	return &Schema{
		Type: TypeStruct, Name: name, Version: EnvelopeVersion,
		Fields: []Field{
			field("before", rowOpt),
			field("after", rowOpt),
			field("source", sourceSchemas[k]),
			field("transaction", transactionBlockSchema),
			field("op", reqString()),
			field("ts_ms", optInt64()),
			field("ts_us", optInt64()),
			field("ts_ns", optInt64()),
		},
	}
}

// Schema-change topic (SchemaFactory.schemaHistoryConnector*Schema).
func newSchemaChangeKeySchema(k connKind) *Schema {
	return &Schema{
		Type: TypeStruct, Name: "io.debezium.connector." + k.String() + ".SchemaChangeKey", Version: 1,
		Fields: []Field{field("databaseName", reqString())},
	}
}

func newSchemaChangeValueSchema(k connKind) *Schema {
	column := &Schema{
		Type: TypeStruct, Name: "io.debezium.connector.schema.Column", Version: 1,
		Fields: []Field{
			field("name", reqString()),
			field("jdbcType", reqInt32()),
			field("nativeType", optInt32()),
			field("typeName", reqString()),
			field("typeExpression", optString()),
			field("charsetName", optString()),
			field("length", optInt32()),
			field("scale", optInt32()),
			field("position", reqInt32()),
			field("optional", optBool()),
			field("autoIncremented", optBool()),
			field("generated", optBool()),
			field("comment", optString()),
			field("defaultValueExpression", optString()),
			field("enumValues", ArraySchema(reqString(), true)),
		},
	}
	table := &Schema{
		Type: TypeStruct, Optional: true, Name: "io.debezium.connector.schema.Table", Version: 1,
		Fields: []Field{
			field("defaultCharsetName", optString()),
			field("primaryKeyColumnNames", ArraySchema(reqString(), true)),
			field("columns", ArraySchema(column, false)),
			field("comment", optString()),
		},
	}
	change := &Schema{
		Type: TypeStruct, Name: "io.debezium.connector.schema.Change", Version: 1,
		Fields: []Field{
			field("type", reqString()),
			field("id", reqString()),
			field("table", table),
		},
	}
	return &Schema{
		Type: TypeStruct, Name: "io.debezium.connector." + k.String() + ".SchemaChangeValue", Version: 1,
		Fields: []Field{
			field("source", sourceSchemas[k]),
			field("ts_ms", reqInt64()),
			field("databaseName", optString()),
			field("schemaName", optString()),
			field("ddl", optString()),
			field("tableChanges", ArraySchema(change, false)),
		},
	}
}

var (
	sourceSchemas          [numConn]*Schema
	transactionBlockSchema = newTransactionBlockSchema()
	schemaChangeKeySchemas [numConn]*Schema
	schemaChangeValSchemas [numConn]*Schema
	// Serialised schema blocks of the fixed schemas, per connector.
	schemaChangeKeyBlocks [numConn][]byte
	schemaChangeValBlocks [numConn][]byte
)

func init() {
	for k := connPostgres; k < numConn; k++ {
		sourceSchemas[k] = newSourceSchema(k)
		schemaChangeKeySchemas[k] = newSchemaChangeKeySchema(k)
		schemaChangeValSchemas[k] = newSchemaChangeValueSchema(k)
		var err error
		if schemaChangeKeyBlocks[k], err = appendSchema(nil, schemaChangeKeySchemas[k], "", false); err != nil {
			panic(err)
		}
		if schemaChangeValBlocks[k], err = appendSchema(nil, schemaChangeValSchemas[k], "", false); err != nil {
			panic(err)
		}
	}
}

// SourceSchema returns the schema of the envelope's "source" block for a
// connector ("postgresql" or "mysql"), or nil for an unknown connector. The
// result is shared: do not modify it.
func SourceSchema(connector string) *Schema { return sourceSchemas[connectorKind(connector)] }
