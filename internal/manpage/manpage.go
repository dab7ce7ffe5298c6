// Package manpage writes the man pages of a cobra command tree: lbx(1)
// and one page per subcommand, through cobra/doc, plus what cobra/doc
// cannot say itself (an EXIT STATUS section, pages outside the tree in SEE
// ALSO). Only the docs build of lbx (-tags lbxdocs, make man) imports it,
// so the shipped binary does not carry the generator.
package manpage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// ExitStatus is one entry of the root page's EXIT STATUS section.
type ExitStatus struct {
	Code    int
	Meaning string
}

// Options say what goes into every page's header and the extra sections.
type Options struct {
	Dir     string       // output directory, created if missing
	Section string       // "1" when empty
	Date    time.Time    // the header's date: fixed (SOURCE_DATE_EPOCH) so that builds reproduce
	Source  string       // header's left footer, e.g. "lbx 1.2.3"
	Manual  string       // header's centre, e.g. "lbx Manual"
	Exit    []ExitStatus // the root page's EXIT STATUS section; none when empty
	SeeAlso []string     // pages outside the tree every page refers to, e.g. "lbx.yaml(5)"
}

// Write generates a page for root and every available subcommand (hidden
// ones and help are left out, as cobra/doc does) and returns the files
// written, sorted.
func Write(root *cobra.Command, o Options) ([]string, error) {
	if o.Section == "" {
		o.Section = "1"
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	root.DisableAutoGenTag = true // its HISTORY line would carry the build date
	var files []string
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				if err := walk(sub); err != nil {
					return err
				}
			}
		}
		page, err := render(c, o)
		if err != nil {
			return fmt.Errorf("man page of %q: %w", c.CommandPath(), err)
		}
		name := filepath.Join(o.Dir, strings.ReplaceAll(c.CommandPath(), " ", "-")+"."+o.Section)
		files = append(files, name)
		return os.WriteFile(name, page, 0o644)
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// render is one command's page: cobra/doc's, with EXIT STATUS (root only)
// and SeeAlso added before the page ends.
func render(c *cobra.Command, o Options) ([]byte, error) {
	date := o.Date.UTC()
	var buf bytes.Buffer
	h := &doc.GenManHeader{Section: o.Section, Date: &date, Source: o.Source, Manual: o.Manual}
	if err := doc.GenMan(c, h, &buf); err != nil {
		return nil, err
	}
	page := buf.String()
	if !c.HasParent() && len(o.Exit) > 0 {
		page = insertSection(page, exitSection(o.Exit))
	}
	if len(o.SeeAlso) > 0 {
		page = addSeeAlso(page, o.SeeAlso)
	}
	return []byte(page), nil
}

const seeAlsoHeading = ".SH SEE ALSO\n"

// exitSection renders the codes as a tagged paragraph list.
func exitSection(codes []ExitStatus) string {
	var b strings.Builder
	b.WriteString(".SH EXIT STATUS\n")
	for _, e := range codes {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", e.Code, escape(e.Meaning))
	}
	return b.String()
}

// insertSection puts a section before SEE ALSO (man-pages(7) order), or at
// the end of a page that has none.
func insertSection(page, section string) string {
	if i := strings.Index(page, seeAlsoHeading); i >= 0 {
		return page[:i] + section + page[i:]
	}
	return strings.TrimRight(page, "\n") + "\n" + section
}

// addSeeAlso appends refs to the SEE ALSO list, creating the section when
// cobra/doc wrote none (a command with neither parent nor children).
func addSeeAlso(page string, refs []string) string {
	items := make([]string, len(refs))
	for i, r := range refs {
		items[i] = `\fB` + escape(r) + `\fP`
	}
	i := strings.Index(page, seeAlsoHeading)
	if i < 0 {
		return strings.TrimRight(page, "\n") + "\n" + seeAlsoHeading + ".PP\n" + strings.Join(items, ", ") + "\n"
	}
	// The section is a .PP and one line of comma-separated references;
	// the list ends where the next section (or the page) does.
	end := len(page)
	if j := strings.Index(page[i+len(seeAlsoHeading):], "\n.SH "); j >= 0 {
		end = i + len(seeAlsoHeading) + j + 1
	}
	return strings.TrimRight(page[:end], "\n") + ", " + strings.Join(items, ", ") + "\n" + page[end:]
}

// escape makes text safe as roff body text: backslashes doubled, hyphens
// as \- (lintian's hyphen-used-as-minus-sign), and a leading dot or quote
// (a control line) guarded by \&.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
