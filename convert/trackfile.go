package convert

import (
	"fmt"
	"strconv"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

// trackFile is a top-level track_file block as keepalived's track_file.c
// reads it, for the FILE_CHECKs that name it.
type trackFile struct {
	path    string
	weight  int // 1 unless set (track_file_handler)
	reverse bool
	// weightAt and init are its weight and init_file lines, if any.
	weightAt *keepalived.Node
	init     *keepalived.Node
	// initSaid: init_file has been reported (once per track_file).
	initSaid bool
}

// readTrackFile reads a track_file block; nil without a file, which
// keepalived ignores ("No file set for track_file").
func readTrackFile(n *keepalived.Node) *trackFile {
	tf := &trackFile{weight: 1}
	for _, ch := range n.Children {
		switch ch.Name {
		case "file":
			if len(ch.Args) > 0 {
				tf.path = ch.Args[0].Text
			}
		case "weight":
			// track_file_weight_handler: a weight once set other than 1
			// stays; one out of -254..254 is 1; an option other than
			// reverse is ignored, not the weight.
			if len(ch.Args) == 0 || tf.weight != 1 {
				continue
			}
			w, err := strconv.Atoi(ch.Args[0].Text)
			if err != nil || w < -254 || w > 254 {
				w = 1
			}
			tf.weight, tf.weightAt = w, ch
			if len(ch.Args) > 1 && ch.Args[1].Text == "reverse" {
				tf.reverse = true
			}
		case "init_file":
			tf.init = ch
		}
	}
	if tf.path == "" {
		return nil
	}
	return tf
}

// trackWeight reads FILE_CHECK's `weight W [reverse|noreverse]` as its
// track_file_weight_handler (check_file.c) does: W in -INT32_MAX..INT32_MAX
// and any other option, or none readable, ignores the line (false).
func trackWeight(n *keepalived.Node) (w int, reverse, ok bool) {
	if len(n.Args) == 0 {
		return 0, false, false
	}
	w, err := strconv.Atoi(n.Args[0].Text)
	if err != nil || w < -(1<<31-1) || w > 1<<31-1 {
		return 0, false, false
	}
	if len(n.Args) > 1 {
		switch n.Args[1].Text {
		case "reverse":
			reverse = true
		case "noreverse":
		default:
			return 0, false, false
		}
	}
	return w, reverse, true
}

// fileCheckSemantics reports where a FILE_CHECK does not run as lbx's
// file check, which is keepalived's FILE_CHECK with weight 0 (any
// non-zero value is down) on a file nobody initialises. own is the
// FILE_CHECK's weight line, at names its track_file line.
func (c *conv) fileCheckSemantics(ck *model.Check, tf *trackFile, name string, own, at *keepalived.Node) {
	w, rev, where := tf.weight, tf.reverse, tf.weightAt
	if own != nil {
		if ow, orev, ok := trackWeight(own); ok {
			w, rev, where = ow, orev, own
		}
	}
	if where == nil {
		where = at
	}
	if w != 0 || rev {
		how := strconv.Itoa(w)
		if rev {
			how += " reverse"
		}
		c.differs(ck, where.Pos, "FILE_CHECK on track_file %s with weight %s: keepalived adds the file's value times the weight to the real server's weight and takes it down only at -254 or less; lbx's file check is keepalived's weight 0, any non-zero value takes the real server down: write `weight 0` if that is what was meant", name, how)
	}
	if tf.init != nil && !tf.initSaid {
		tf.initSaid = true
		c.differs(ck, tf.init.Pos, "track_file %s: keepalived writes its init_file value to %s when it starts (when missing, or always with overwrite); lbx does not write it and reads a missing file as 0, up: create the file before lbx watch starts", name, tf.path)
	}
}

// differs reports a setting that converts but does not run as keepalived
// runs it: a warning, an error with --strict.
func (c *conv) differs(owner any, p keepalived.Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.diags = append(c.diags, Diagnostic{Pos: p, Severity: Unsupported, Msg: msg})
	c.comment(owner, fmt.Sprintf("%s: %s", p, msg))
}
