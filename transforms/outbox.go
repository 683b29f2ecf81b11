package transforms

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sluice-cdc/sluice/change"
)

func init() { register("outbox", buildOutbox) }

// Outbox defaults, as Debezium's outbox event router has them.
const (
	DefaultOutboxTopicRegex       = `(?<routedByValue>.*)`
	DefaultOutboxTopicReplacement = `outbox.event.${routedByValue}`
)

// placement is a table_fields_additional_placement entry: a column copied
// into a header.
type placement struct {
	column, header string
}

// buildOutbox is Debezium's outbox event router (EventRouter): an insert
// (or snapshot read) of an outbox row becomes an event on the topic routed
// by route_by_field (route_topic_regex / route_topic_replacement), keyed
// by the table_field_event_key column, with the table_field_event_payload
// column as its value and the event id and type as the headers "id" and
// "type"; with table_expand_json_payload a JSON payload becomes a struct
// with an inferred schema. Updates and deletes of outbox rows, and their tombstones, are
// dropped, as Debezium does (outbox rows are meant to be inserted and
// deleted right away). Schema-change events pass unchanged.
func buildOutbox(o *options) (func(*change.Event) (bool, error), error) {
	idCol := o.str("table_field_event_id", "id")
	keyCol := o.str("table_field_event_key", "aggregateid")
	typeCol := o.str("table_field_event_type", "type")
	payloadCol := o.str("table_field_event_payload", "payload")
	routeCol := o.str("route_by_field", "aggregatetype")
	topicPat := o.str("route_topic_regex", DefaultOutboxTopicRegex)
	topicRepl := o.str("route_topic_replacement", DefaultOutboxTopicReplacement)
	expand := o.boolean("table_expand_json_payload", false)
	var extra []placement
	for i, p := range o.strs("table_fields_additional_placement") {
		parts := strings.Split(p, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[1] != "header" {
			o.errorf(fmt.Sprintf("table_fields_additional_placement[%d]", i),
				"%q: want column:header or column:header:alias (only header placement is supported)", p)
			continue
		}
		pl := placement{column: parts[0], header: parts[0]}
		if len(parts) == 3 {
			pl.header = parts[2]
		}
		extra = append(extra, pl)
	}
	re, err := regexp.Compile(topicPat)
	if err != nil {
		o.errorf("route_topic_regex", "%v", err)
		return nil, nil
	}

	type cols struct {
		id, key, typ, payload, route int
		extra                        []int
	}
	layouts := map[*change.Schema]*cols{}
	layout := func(s *change.Schema) (*cols, error) {
		if c, ok := layouts[s]; ok {
			return c, nil
		}
		c := &cols{id: s.FieldIndex(idCol), key: s.FieldIndex(keyCol), typ: s.FieldIndex(typeCol),
			payload: s.FieldIndex(payloadCol), route: s.FieldIndex(routeCol)}
		for name, i := range map[string]int{payloadCol: c.payload, routeCol: c.route} {
			if i < 0 {
				return nil, fmt.Errorf("outbox table has no column %s", name)
			}
		}
		for _, p := range extra {
			i := s.FieldIndex(p.column)
			if i < 0 {
				return nil, fmt.Errorf("outbox table has no column %s (table_fields_additional_placement)", p.column)
			}
			c.extra = append(c.extra, i)
		}
		if len(layouts) >= maxPlans {
			clear(layouts)
		}
		layouts[s] = c
		return c, nil
	}
	topics := map[string]string{}
	// The last schema inferred from an expanded payload: payloads of one
	// shape share it, so the encoder's schema cache keeps hitting.
	var lastInferred *change.Schema

	return func(e *change.Event) (bool, error) {
		switch {
		case e.SchemaChange != nil:
			return true, nil
		case e.Op != change.OpCreate && e.Op != change.OpRead:
			// Updates, deletes, tombstones and truncates of the outbox
			// table are not events.
			return false, nil
		case e.After == nil || e.RowSchema == nil:
			return false, fmt.Errorf("outbox %s event without an after image", e.Op)
		}
		c, err := layout(e.RowSchema)
		if err != nil {
			return false, err
		}
		row := e.After
		rv := value(row, c.route)
		if rv == nil {
			return false, fmt.Errorf("outbox row has a null %s", routeCol)
		}
		routeBy := textOf(rv)
		topic, ok := topics[routeBy]
		if !ok {
			m := re.FindStringSubmatchIndex(routeBy)
			if m == nil {
				topic = routeBy
			} else {
				topic = string(re.ExpandString(nil, topicRepl, routeBy, m))
			}
			if topic == "" {
				return false, fmt.Errorf("outbox %s %q routes to an empty topic name", routeCol, routeBy)
			}
			if len(topics) >= maxPlans {
				clear(topics)
			}
			topics[routeBy] = topic
		}
		hs := make([]change.Header, 0, 2+len(c.extra))
		if c.id >= 0 {
			hs = append(hs, change.Header{Key: "id", Value: headerText(textValue(value(row, c.id)))})
		}
		if c.typ >= 0 {
			hs = append(hs, change.Header{Key: "type", Value: headerText(textValue(value(row, c.typ)))})
		}
		for j, p := range extra {
			hs = append(hs, change.Header{Key: p.header, Value: headerText(textValue(value(row, c.extra[j])))})
		}
		e.Headers = appendHeaders(e.Headers, hs...)

		e.Topic = topic
		e.Key = nil
		e.KeySchema, e.KeyValue = nil, nil
		if c.key >= 0 {
			e.KeySchema, e.KeyValue = e.RowSchema.Fields[c.key].Schema, value(row, c.key)
			if e.KeyValue == nil {
				e.KeySchema = nil // a null key
			}
		}
		ps := e.RowSchema.Fields[c.payload].Schema
		pv := value(row, c.payload)
		if js, ok := pv.(string); ok && expand {
			st, sc, err := change.DecodeJSONValue([]byte(js))
			if err != nil {
				return false, fmt.Errorf("expand the %s column: %w", payloadCol, err)
			}
			if sc == nil {
				sc = ps // a JSON null
			} else if lastInferred != nil && lastInferred.Equal(sc) {
				sc, st.Schema = lastInferred, lastInferred
			} else {
				lastInferred = sc
			}
			ps, pv = sc, nil
			if st != nil {
				pv = st
			}
		}
		e.Op, e.Before, e.After, e.Value, e.RowSchema = "", nil, nil, nil, ps
		if st, ok := pv.(*change.Struct); ok {
			e.After = st
		} else {
			e.Value = pv
		}
		return true, nil
	}, nil
}

// textValue is v's text for headers (nil stays nil).
func textValue(v any) any {
	if v == nil {
		return nil
	}
	return textOf(v)
}
