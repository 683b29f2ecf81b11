package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/internal/harness"
)

const myTypesColumns = `id INT PRIMARY KEY,
	ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT UNSIGNED, mi MEDIUMINT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
	f FLOAT, d DOUBLE, dec1 DECIMAL(12,4),
	b1 BIT(1), b10 BIT(10),
	dt DATE, dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME, tm6 TIME(6), yr YEAR,
	c CHAR(5), vc VARCHAR(20), lat VARCHAR(10) CHARACTER SET latin1, txt TEXT, bin BINARY(4), vb VARBINARY(10), bl BLOB,
	e ENUM('x','y','z'), st SET('a','b','c'), j JSON, g POINT`

const myTypesValues = `-5, 250, 65000, -8000000, 4000000000, -9000000000000000000, 18446744073709551615,
	1.5, 2.25, 12345678.1234, b'1', b'1000000001',
	'2024-02-29', '2018-06-20 06:37:03', '2018-06-20 06:37:03.125', '2018-06-20 06:37:03.000001', '2018-06-20 13:37:03.100',
	'-838:59:59', '12:34:56.789012', 2024,
	'ab', 'héllo ☃', 'café', 'text', 0x0102, 0xff00, 0xdeadbeef, 'y', 'a,c', '{"k": [1, 2]}', ST_GeomFromText('POINT(1 2)')`

func myTypesPayload(id int) map[string]any {
	b64 := base64.StdEncoding.EncodeToString
	wkb := []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}
	return map[string]any{
		"id": id, "ti": -5, "tiu": 250, "si": 65000, "mi": -8000000, "iu": 4000000000, "bi": -9000000000000000000, "biu": -1,
		"f": "1.5", "d": "2.25", "dec1": decimalBase64(123456781234),
		"b1": true, "b10": b64([]byte{0x01, 0x02}),
		"dt": 19782, "dtm": 1529476623000, "dtm3": 1529476623125, "dtm6": 1529476623000001, "ts": "2018-06-20T13:37:03.100Z",
		"tm": -3020399000000, "tm6": 45296789012, "yr": 2024,
		"c": "ab", "vc": "héllo ☃", "lat": "café", "txt": "text", "bin": b64([]byte{1, 2, 0, 0}), "vb": b64([]byte{0xff, 0}),
		"bl": b64([]byte{0xde, 0xad, 0xbe, 0xef}), "e": "y", "st": "a,c", "j": `{"k": [1, 2]}`,
		"g": map[string]any{"wkb": b64(wkb), "srid": 0},
	}
}

func myNullPayload(id int) map[string]any {
	m := myTypesPayload(id)
	for k := range m {
		if k != "id" {
			m[k] = nil
		}
	}
	return m
}

// TestMySQLTypes checks Debezium's MySQL type mapping through the snapshot
// (text protocol) and the binlog (row images) alike.
func TestMySQLTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	my := harness.StartMariaDB(t)
	must(t, my.Exec(ctx, fmt.Sprintf(`SET NAMES utf8mb4; CREATE DATABASE app; USE app; CREATE TABLE types (%s);
		INSERT INTO types VALUES (1, %s); INSERT INTO types (id) VALUES (2);`, myTypesColumns, myTypesValues)))
	d := runDaemon(t, mySourceYAML("ty", my.DSN(""), "tables: [app.types]"))
	c := newConsumer(t, d.Brokers(), "ty.app.types")
	snap := c.next(2, time.Minute)
	checkRecord(t, 0, snap[0], want{op: "r", key: 1, after: myTypesPayload(1)})
	checkRecord(t, 1, snap[1], want{op: "r", key: 2, after: myNullPayload(2)})

	must(t, my.Exec(ctx, fmt.Sprintf(`SET NAMES utf8mb4; USE app; INSERT INTO types VALUES (3, %s); INSERT INTO types (id) VALUES (4);
		UPDATE types SET ti = 7 WHERE id = 3;`, myTypesValues)))
	recs := c.next(3, time.Minute)
	checkRecord(t, 2, recs[0], want{op: "c", key: 3, after: myTypesPayload(3)})
	checkRecord(t, 3, recs[1], want{op: "c", key: 4, after: myNullPayload(4)})
	upd := myTypesPayload(3)
	upd["ti"] = 7
	checkRecord(t, 4, recs[2], want{op: "u", key: 3, before: myTypesPayload(3), after: upd})
}
