package plan

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/state"
)

// ansi matches the colour codes WriteText may write.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestRenderColourKeepsAlignment: colour only adds ANSI codes: with them
// stripped, the coloured plan is the plain one byte for byte, so every
// column stays where it is (a code counted as width would shift the
// line), and each change's address starts in the same column.
func TestRenderColourKeepsAlignment(t *testing.T) {
	full := testkit.Desired(t, base).State
	for _, tc := range []struct {
		name string
		p    *Plan
	}{
		{"create", Diff(testkit.Desired(t, base), state.New(), Options{})},
		{"update and replace", Diff(testkit.Desired(t, strings.Replace(strings.Replace(base, "weight: 2", "weight: 5", 1), "/24", "/25", 1)), full, Options{})},
		{"delete with drain", Diff(testkit.Desired(t, strings.Replace(base, "      - {address: 10.1.0.2, weight: 2}\n", "", 1)), full, Options{})},
		{"no changes", Diff(testkit.Desired(t, base), full, Options{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var plain, coloured bytes.Buffer
			if err := WriteText(&plain, tc.p, false); err != nil {
				t.Fatal(err)
			}
			if err := WriteText(&coloured, tc.p, true); err != nil {
				t.Fatal(err)
			}
			if !tc.p.Empty() && !ansi.Match(coloured.Bytes()) {
				t.Fatalf("no colour in the coloured plan:\n%s", coloured.String())
			}
			if got := ansi.ReplaceAllString(coloured.String(), ""); got != plain.String() {
				t.Errorf("coloured plan without its codes:\n%s\nplain plan:\n%s", got, plain.String())
			}
			for _, line := range strings.Split(plain.String(), "\n") {
				for _, sym := range symbols {
					if strings.HasPrefix(strings.TrimLeft(line, " "), sym+" ") && strings.Index(line, sym+" ")+len(sym) != 4 {
						t.Errorf("change line %q: the address does not start in column 5", line)
					}
				}
			}
		})
	}
}
