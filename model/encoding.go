package model

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// yaml.v3 reports a bad byte or a control character without a line
// ("yaml: control characters are not allowed"); these find it.

// readerProblems are the messages of yaml.v3's reader, which carry no
// position.
var readerProblems = []string{"UTF-8", "control characters are not allowed", "invalid Unicode character"}

func isReaderError(msg string) bool {
	for _, p := range readerProblems {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// badCharacter finds the first byte that YAML refuses: invalid UTF-8, or a
// character outside YAML's printable set. UTF-16 input (which yaml.v3
// reads, after its byte order mark) is not examined.
func badCharacter(data []byte) (off int, msg string, ok bool) {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return 0, "", false
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return i, fmt.Sprintf("invalid UTF-8 (byte 0x%02x); save the file as UTF-8", data[i]), true
		case r < 0x20 || (r >= 0x7f && r < 0xa0 && r != 0x85):
			if r != '\t' && r != '\n' && r != '\r' {
				return i, fmt.Sprintf("control character U+%04X is not allowed; remove it (tab, LF and CR are the only ones YAML takes)", r), true
			}
		case (r >= 0xd800 && r < 0xe000) || r == 0xfffe || r == 0xffff:
			return i, fmt.Sprintf("character U+%04X is not allowed in YAML; remove it", r), true
		}
		i += size
	}
	return 0, "", false
}

// lineCol is the 1-based line and column (in characters, as yaml.v3
// counts them) of byte offset off; a line ends at LF, CR LF or a lone CR.
func lineCol(data []byte, off int) (line, col int) {
	line, col = 1, 1
	start := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		start = 3 // the byte order mark takes no column
	}
	for i := start; i < off; {
		r, size := utf8.DecodeRune(data[i:off])
		i += size
		switch {
		case r == '\n', r == '\r' && (i >= len(data) || data[i] != '\n'):
			line, col = line+1, 1
		case r != '\r':
			col++
		}
	}
	return line, col
}
