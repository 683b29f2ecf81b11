package mysql

import (
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// charsetDecoder returns the decoder of a MySQL character set for the raw
// bytes of binlog row images, nil when the bytes are UTF-8 (or ASCII)
// already. The snapshot needs none: its connection reads utf8mb4.
func charsetDecoder(cs string) *encoding.Decoder {
	var e encoding.Encoding
	switch strings.ToLower(cs) {
	case "", "utf8", "utf8mb3", "utf8mb4", "ascii", "binary":
		return nil
	case "latin1": // MySQL's latin1 is cp1252
		e = charmap.Windows1252
	case "latin2":
		e = charmap.ISO8859_2
	case "latin5":
		e = charmap.ISO8859_9
	case "latin7":
		e = charmap.ISO8859_13
	case "greek":
		e = charmap.ISO8859_7
	case "hebrew":
		e = charmap.ISO8859_8
	case "cp1250":
		e = charmap.Windows1250
	case "cp1251":
		e = charmap.Windows1251
	case "cp1256":
		e = charmap.Windows1256
	case "cp1257":
		e = charmap.Windows1257
	case "cp850":
		e = charmap.CodePage850
	case "cp852":
		e = charmap.CodePage852
	case "cp866":
		e = charmap.CodePage866
	case "koi8r":
		e = charmap.KOI8R
	case "koi8u":
		e = charmap.KOI8U
	case "macroman":
		e = charmap.Macintosh
	case "sjis", "cp932":
		e = japanese.ShiftJIS
	case "ujis", "eucjpms":
		e = japanese.EUCJP
	case "euckr":
		e = korean.EUCKR
	case "gbk", "gb2312":
		e = simplifiedchinese.GBK
	case "gb18030":
		e = simplifiedchinese.GB18030
	case "big5":
		e = traditionalchinese.Big5
	case "ucs2", "utf16":
		e = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case "utf16le":
		e = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	default:
		return nil
	}
	return e.NewDecoder()
}
