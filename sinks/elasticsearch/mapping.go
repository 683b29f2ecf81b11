package elasticsearch

import (
	"math"
	"strconv"

	"github.com/sluice-cdc/sluice/change"
)

// textField is how strings are mapped: full text plus a keyword
// sub-field for sorting, aggregations and exact matches (Elasticsearch's
// own dynamic mapping for strings).
func textField() map[string]any {
	return map[string]any{"type": "text", "fields": map[string]any{"keyword": map[string]any{"type": "keyword", "ignore_above": 256}}}
}

const dateFormat = "strict_date_optional_time||epoch_millis"

// Mapping returns the index mapping ({"properties": ...}) for rows of a
// Kafka Connect struct schema; see the package documentation for the
// type table.
func Mapping(row *change.Schema) map[string]any {
	props := map[string]any{}
	for _, f := range row.Fields {
		if m := fieldMapping(f.Schema); m != nil {
			props[f.Name] = m
		}
	}
	return map[string]any{"properties": props}
}

// fieldMapping maps one field; nil leaves it to dynamic mapping.
func fieldMapping(s *change.Schema) map[string]any {
	if s == nil {
		return nil
	}
	switch s.Name {
	case change.DecimalName:
		scale, _ := strconv.Atoi(s.Parameters[change.DecimalScaleParam])
		precision, _ := strconv.Atoi(s.Parameters[change.DecimalPrecisionParam])
		// scaled_float keeps value × factor in a long: exact while the
		// digits fit in a double's 15.
		if precision > 0 && precision <= 15 && scale >= 0 && scale <= 15 {
			return map[string]any{"type": "scaled_float", "scaling_factor": math.Pow10(scale)}
		}
		return map[string]any{"type": "double"}
	case change.VariableScaleDecimalName:
		return map[string]any{"type": "double"}
	case change.DateName, change.ConnectDateName, change.TimestampName, change.ConnectTimestampName,
		change.MicroTimestampName, change.NanoTimestampName, change.ZonedTimestampName,
		change.IsoDateName, change.IsoTimestampName:
		return map[string]any{"type": "date", "format": dateFormat}
	case change.TimeName, change.ConnectTimeName, change.MicroTimeName, change.NanoTimeName,
		change.ZonedTimeName, change.IsoTimeName, change.IntervalName,
		change.UUIDName, change.EnumName, change.EnumSetName, change.LtreeName:
		return map[string]any{"type": "keyword"}
	case change.JSONName, change.XMLName, change.TsvectorName:
		return textField()
	case change.BitsName:
		return map[string]any{"type": "binary"}
	case change.YearName:
		return map[string]any{"type": "integer"}
	case change.MicroDurationName, change.NanoDurationName:
		return map[string]any{"type": "long"}
	}
	switch s.Type {
	case change.TypeInt8:
		return map[string]any{"type": "byte"}
	case change.TypeInt16:
		return map[string]any{"type": "short"}
	case change.TypeInt32:
		return map[string]any{"type": "integer"}
	case change.TypeInt64:
		return map[string]any{"type": "long"}
	case change.TypeFloat32:
		return map[string]any{"type": "float"}
	case change.TypeFloat64:
		return map[string]any{"type": "double"}
	case change.TypeBoolean:
		return map[string]any{"type": "boolean"}
	case change.TypeString:
		return textField()
	case change.TypeBytes:
		return map[string]any{"type": "binary"}
	case change.TypeArray:
		return fieldMapping(s.Items)
	case change.TypeStruct:
		return Mapping(s)
	case change.TypeMap:
		// Keys become field names: left to dynamic mapping.
		return map[string]any{"type": "object"}
	}
	return nil
}
