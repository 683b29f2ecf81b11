package change

import "strings"

// maxTopicLen is Kafka's (and Debezium's TopicNamingStrategy.MAX_NAME_LENGTH)
// limit on topic names.
const maxTopicLen = 249

// TopicFor returns the data topic of a table, as Debezium's default topic
// naming strategy builds it: "<prefix>.<schema>.<table>" for Postgres,
// "<prefix>.<database>.<table>" for MySQL. Blank parts are skipped, and
// characters Kafka does not allow in topic names (anything but ASCII
// letters, digits, '.', '_' and '-') are replaced with '_'.
func TopicFor(prefix, schemaOrDB, table string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(schemaOrDB) + len(table) + 2)
	for _, part := range [...]string{prefix, schemaOrDB, table} {
		if strings.TrimSpace(part) == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return sanitizeTopic(b.String())
}

// SchemaChangeTopic returns the topic of schema-change events: the prefix
// itself.
func SchemaChangeTopic(prefix string) string { return sanitizeTopic(prefix) }

// TransactionTopic returns the topic of transaction BEGIN/END metadata
// events: "<prefix>.transaction".
func TransactionTopic(prefix string) string { return sanitizeTopic(prefix + ".transaction") }

// HeartbeatTopic returns the topic of heartbeat events:
// "__sluice-heartbeat.<prefix>" (Debezium uses "__debezium-heartbeat").
func HeartbeatTopic(prefix string) string { return sanitizeTopic("__sluice-heartbeat." + prefix) }

// KeySchemaName returns the name of a table's key schema: "<topic>.Key".
func KeySchemaName(topic string) string { return topic + ".Key" }

// ValueSchemaName returns the name of a table's row schema: "<topic>.Value".
func ValueSchemaName(topic string) string { return topic + ".Value" }

// EnvelopeSchemaName returns the envelope schema name for a row schema name:
// its ".Value" suffix replaced by ".Envelope" (".Envelope" appended if it
// has no such suffix).
func EnvelopeSchemaName(rowSchemaName string) string {
	return strings.TrimSuffix(rowSchemaName, ".Value") + ".Envelope"
}

func validTopicChar(c byte) bool {
	return c == '.' || c == '_' || c == '-' ||
		(c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// sanitizeTopic mirrors Debezium's AbstractTopicNamingStrategy.sanitizedTopicName
// with the default '_' replacement. Debezium replaces per UTF-16 unit, so a
// character outside the BMP becomes "__".
func sanitizeTopic(name string) string {
	ok := true
	for i := 0; i < len(name); i++ {
		if !validTopicChar(name[i]) {
			ok = false
			break
		}
	}
	if !ok {
		var b strings.Builder
		b.Grow(len(name))
		for _, r := range name {
			switch {
			case r < 0x80 && validTopicChar(byte(r)):
				b.WriteByte(byte(r))
			case r > 0xFFFF:
				b.WriteString("__")
			default:
				b.WriteByte('_')
			}
		}
		name = b.String()
	}
	switch {
	case len(name) > maxTopicLen:
		name = name[:maxTopicLen]
	case name == ".":
		name = "_"
	case name == "..":
		name = "__"
	}
	return name
}
