package script

import (
	"strings"
	"testing"
)

// FuzzShellWords: any command line splits without a panic, and words are
// never empty unless quoted so ("" is a word), nor hold a separator the
// shell would have split on outside quotes; the checks on top of it never
// panic either (they stat what the words name).
func FuzzShellWords(f *testing.F) {
	for _, s := range []string{
		`/bin/sh /x/evil.sh`, `A=1 cmd "a b" 'c'`, "a; b && c | d\n e",
		`nice -n 5 env -i -u HOME /bin/x`, "echo `x` \"$(y)\"", `sh -c 'eval /bin/true'`,
		`cmd >out 2>&1 <in`, `"unterminated`, `'`, `\`, `>`, `-c`, `nice -n`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range ShellWords(s) {
			if w.Text == "" && !strings.ContainsAny(s, `"'`) {
				t.Fatalf("ShellWords(%q): an empty word without quotes", s)
			}
		}
		_ = CheckShell(s, Root)
	})
}
