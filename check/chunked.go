package check

import "fmt"

// chunkDecoder undoes HTTP's chunked transfer coding (RFC 9112 §7.1) as
// the bytes arrive, so that a digest is taken over the body itself. Servers
// send it in reply to lbx's HTTP/1.1 requests (http_protocol 1.1), and some
// even in reply to HTTP/1.0. Chunk extensions and trailer fields are
// skipped; a bare LF is accepted where CRLF belongs, as lax servers send.
type chunkDecoder struct {
	state chunkState
	size  int64 // the chunk size being read, then the data left in it
	digit bool  // the size line has a digit
}

type chunkState uint8

const (
	chunkSize        chunkState = iota // hex digits of the size line
	chunkExt                           // ";ext" or spaces: up to the LF
	chunkSizeLF                        // the LF after the size line's CR
	chunkData                          // size bytes of data
	chunkDataCR                        // the CRLF after the data
	chunkDataLF                        //
	chunkTrailer                       // at the start of a trailer line
	chunkTrailerLine                   // inside a trailer field: up to the LF
	chunkTrailerLF                     // the LF of the final CRLF
	chunkDone
)

// feed decodes b, handing data to out. done is true once the last chunk
// and the trailer have been read (bytes after them are ignored); fail says
// why the coding is broken.
func (d *chunkDecoder) feed(b []byte, out func([]byte)) (done bool, fail string) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch d.state {
		case chunkSize:
			switch v := unhex(c); {
			case v >= 0:
				if d.size > MaxBody {
					return true, fmt.Sprintf("chunk larger than %d bytes", MaxBody)
				}
				d.size, d.digit = d.size<<4|int64(v), true
			case !d.digit:
				return true, fmt.Sprintf("bad chunk size line (byte %q)", c)
			case c == ';' || c == ' ' || c == '\t':
				d.state = chunkExt
			case c == '\r':
				d.state = chunkSizeLF
			case c == '\n':
				d.endSizeLine()
			default:
				return true, fmt.Sprintf("bad chunk size line (byte %q)", c)
			}
		case chunkExt:
			if c == '\n' {
				d.endSizeLine()
			}
		case chunkSizeLF:
			if c != '\n' {
				return true, "bad chunk size line (CR without LF)"
			}
			d.endSizeLine()
		case chunkData:
			n := min(int64(len(b)-i), d.size)
			out(b[i : i+int(n)])
			d.size -= n
			i += int(n) - 1
			if d.size == 0 {
				d.state = chunkDataCR
			}
		case chunkDataCR:
			switch c {
			case '\r':
				d.state = chunkDataLF
			case '\n':
				d.state = chunkSize
			default:
				return true, "chunk data longer than its size"
			}
		case chunkDataLF:
			if c != '\n' {
				return true, "chunk data longer than its size"
			}
			d.state = chunkSize
		case chunkTrailer:
			switch c {
			case '\r':
				d.state = chunkTrailerLF
			case '\n':
				d.state = chunkDone
				return true, ""
			default:
				d.state = chunkTrailerLine
			}
		case chunkTrailerLine:
			if c == '\n' {
				d.state = chunkTrailer
			}
		case chunkTrailerLF:
			if c != '\n' {
				return true, "bad end of chunked body (CR without LF)"
			}
			d.state = chunkDone
			return true, ""
		case chunkDone:
			return true, ""
		}
	}
	return d.state == chunkDone, ""
}

// endSizeLine starts the chunk whose size was read, or the trailer after
// the last (size 0) chunk.
func (d *chunkDecoder) endSizeLine() {
	d.digit = false
	if d.size == 0 {
		d.state = chunkTrailer
		return
	}
	d.state = chunkData
}

// complete says whether a close now ends the body properly: after the last
// chunk (a server that closes without the final CRLF is forgiven).
func (d *chunkDecoder) complete() bool {
	return d.state == chunkTrailer || d.state == chunkTrailerLine || d.state == chunkTrailerLF || d.state == chunkDone
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
