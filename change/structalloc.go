package change

// structPair is a row's struct and its key struct, allocated together.
type structPair struct{ row, key Struct }

// NewRowAndKey returns a row struct of nrow values with schema rowSchema
// and, unless keySchema is nil, a key struct of nkey values: two
// allocations for the four.
func NewRowAndKey(rowSchema *Schema, nrow int, keySchema *Schema, nkey int) (row, key *Struct) {
	return new(structPair).init(make([]any, nrow+nkey), rowSchema, nrow, keySchema)
}

func (p *structPair) init(all []any, rowSchema *Schema, nrow int, keySchema *Schema) (row, key *Struct) {
	p.row = Struct{Schema: rowSchema, Values: all[:nrow:nrow]}
	if keySchema == nil {
		return &p.row, nil
	}
	p.key = Struct{Schema: keySchema, Values: all[nrow:]}
	return &p.row, &p.key
}

// structChunkRows is how many rows a StructChunks allocates at once.
const structChunkRows = 64

// StructChunks hands out rows as NewRowAndKey does, from chunks of
// structChunkRows rows: two allocations per chunk instead of per row. A
// chunk is collected once none of its rows is referenced, which suits rows
// that are encoded and dropped in the order they were read (a snapshot).
// The zero value is ready to use; it is not safe for concurrent use.
type StructChunks struct {
	pairs []structPair
	vals  []any
}

// Next is NewRowAndKey from the current chunk.
func (c *StructChunks) Next(rowSchema *Schema, nrow int, keySchema *Schema, nkey int) (row, key *Struct) {
	n := nrow + nkey
	if len(c.pairs) == 0 || len(c.vals) < n {
		c.pairs = make([]structPair, structChunkRows)
		c.vals = make([]any, structChunkRows*n)
	}
	p := &c.pairs[0]
	c.pairs = c.pairs[1:]
	all := c.vals[:n:n]
	c.vals = c.vals[n:]
	return p.init(all, rowSchema, nrow, keySchema)
}
