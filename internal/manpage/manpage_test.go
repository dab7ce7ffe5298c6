package manpage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// tree is a small command tree shaped like lbx's: a root with flags, two
// subcommands, one hidden.
func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "Does things", Long: "tool does things."}
	root.PersistentFlags().String("log-level", "info", "log level")
	run := func(*cobra.Command, []string) error { return nil }
	plan := &cobra.Command{Use: "plan -f FILE", Short: "Print the changes", RunE: run}
	plan.Flags().StringP("file", "f", "", "model file")
	root.AddCommand(plan,
		&cobra.Command{Use: "apply", Short: "Make the changes", RunE: run},
		&cobra.Command{Use: "secret", Short: "Hidden", Hidden: true, RunE: run})
	return root
}

func TestWrite(t *testing.T) {
	date := time.Date(2024, 3, 5, 23, 30, 0, 0, time.FixedZone("east", 5*3600)) // Mar 5 18:30 UTC
	opts := Options{
		Date: date, Source: "tool 1.2.3", Manual: "tool Manual",
		Exit:    []ExitStatus{{0, "Success."}, {2, "--detailed-exitcode: changes."}},
		SeeAlso: []string{"tool.yaml(5)"},
	}
	opts.Dir = t.TempDir()
	files, err := Write(tree(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if got, want := strings.Join(names, " "), "tool-apply.1 tool-plan.1 tool.1"; got != want {
		t.Fatalf("pages %q, want %q (hidden commands left out)", got, want)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(opts.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		page string
		want []string // in this order
		not  []string
	}{
		{"tool.1", []string{
			`.TH "TOOL" "1" "Mar 2024" "tool 1.2.3" "tool Manual"`,
			".SH DESCRIPTION\ntool does things.",
			".SH EXIT STATUS\n.TP\n.B 0\nSuccess.\n.TP\n.B 2\n\\-\\-detailed\\-exitcode: changes.\n",
			".SH SEE ALSO\n",
			`\fBtool-apply(1)\fP, \fBtool-plan(1)\fP, \fBtool.yaml(5)\fP` + "\n",
		}, []string{"secret", "HISTORY", "Auto generated"}},
		{"tool-plan.1", []string{
			`.TH "TOOL-PLAN" "1" "Mar 2024"`,
			"--file",
			".SH SEE ALSO\n",
			`\fBtool(1)\fP, \fBtool.yaml(5)\fP` + "\n",
		}, []string{"EXIT STATUS", "HISTORY"}},
	}
	for _, tc := range tests {
		t.Run(tc.page, func(t *testing.T) {
			page := read(tc.page)
			at := 0
			for _, w := range tc.want {
				i := strings.Index(page[at:], w)
				if i < 0 {
					t.Fatalf("%s: no %q after offset %d:\n%s", tc.page, w, at, page)
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(page, n) {
					t.Errorf("%s contains %q:\n%s", tc.page, n, page)
				}
			}
		})
	}

	// The same input writes the same bytes (builds reproduce).
	again := opts
	again.Dir = t.TempDir()
	if _, err := Write(tree(), again); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		a, _ := os.ReadFile(filepath.Join(opts.Dir, n))
		b, _ := os.ReadFile(filepath.Join(again.Dir, n))
		if string(a) != string(b) {
			t.Errorf("%s differs between two runs", n)
		}
	}
}

func TestAddSeeAlso(t *testing.T) {
	tests := []struct{ name, page, want string }{
		{"no section", ".TH X\n.SH NAME\nx\n", ".TH X\n.SH NAME\nx\n.SH SEE ALSO\n.PP\n\\fBa(5)\\fP\n"},
		{"last section", ".SH SEE ALSO\n.PP\n\\fBx(1)\\fP\n", ".SH SEE ALSO\n.PP\n\\fBx(1)\\fP, \\fBa(5)\\fP\n"},
		{"section after", ".SH SEE ALSO\n.PP\n\\fBx(1)\\fP\n\n.SH HISTORY\nh\n", ".SH SEE ALSO\n.PP\n\\fBx(1)\\fP, \\fBa(5)\\fP\n.SH HISTORY\nh\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := addSeeAlso(tc.page, []string{"a(5)"}); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"--flag a-b", `\-\-flag a\-b`},
		{`back\slash`, `back\eslash`},
		{".dot first", `\&.dot first`},
		{"'quote first", `\&'quote first`},
	}
	for _, tc := range tests {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
