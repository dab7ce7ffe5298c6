package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Example is one example model for the man page.
type Example struct {
	Name  string // file name
	About string // its leading comment
	YAML  string // the rest
}

// ReadExamples reads dir/*.yaml: the leading comment block (less the
// yaml-language-server line) says what the example shows.
func ReadExamples(dir string) ([]Example, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no examples in %s (run from the repository root or pass -examples)", dir)
	}
	sort.Strings(files)
	var out []Example
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ex := Example{Name: filepath.Base(f)}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		i := 0
		var about []string
		for ; i < len(lines) && strings.HasPrefix(lines[i], "#"); i++ {
			if !strings.Contains(lines[i], "yaml-language-server:") {
				about = append(about, strings.TrimSpace(strings.TrimPrefix(lines[i], "#")))
			}
		}
		ex.About = strings.Join(about, " ")
		ex.YAML = strings.Join(lines[i:], "\n")
		out = append(out, ex)
	}
	return out, nil
}

// Man renders lbx.yaml(5) in roff (man macros).
func (m *Model) Man(examples []Example) []byte {
	w := &roff{}
	w.line(`.TH LBX.YAML 5 "" "lbx" "File Formats Manual"`)
	w.line(".SH NAME")
	w.line(`lbx.yaml \- the lbx model: the load balancer a director should be`)
	w.line(".SH SYNOPSIS")
	w.line(`.B /etc/lbx/lbx.yaml`)
	w.line(".SH DESCRIPTION")
	w.text(m.Root.Doc)
	w.para("A model is one YAML document. lbx refuses unknown keys and values of the wrong type and reports every problem at once, each with its file, line, column and field path; `lbx validate -f FILE` checks a model without touching the kernel. Keys left out take the default shown below, which is keepalived's where keepalived has one.")
	w.para("The same descriptions, types and defaults are in the JSON Schema schema/lbx.schema.json, which editors with the YAML language server use to complete and check a model: put `# yaml-language-server: $schema=PATH/lbx.schema.json` on its first line.")
	w.line(".SS Value types")
	for _, name := range valueTypeNames {
		w.line(".TP")
		w.line(`.I ` + valueSummary[name])
		w.text(m.TypeDocs[name])
	}
	for _, f := range m.Root.Fields {
		w.line(".SH " + strings.ToUpper(strings.ReplaceAll(f.Key, "_", " ")))
		w.field(f)
		if obj := objectOf(f.Value); obj != nil {
			w.object(obj, f.Key+suffix(f.Value))
		}
	}
	w.line(".SH EXAMPLES")
	for _, ex := range examples {
		w.line(".SS " + w.esc(ex.Name))
		w.text(ex.About)
		w.line(".PP")
		w.line(".EX")
		for _, l := range strings.Split(ex.YAML, "\n") {
			w.line(w.escLine(l))
		}
		w.line(".EE")
	}
	w.line(".SH SEE ALSO")
	w.line(`.BR lbx (1),`)
	w.line(`.BR keepalived.conf (5)`)
	return w.Bytes()
}

// objectOf is the struct a value holds, directly or as list or map
// elements.
func objectOf(v *Value) *Type {
	for v.Kind == List || v.Kind == Map {
		v = v.Elem
	}
	return v.Object
}

// suffix marks list and map levels in a section's path: "[]" and ".NAME".
func suffix(v *Value) string {
	s := ""
	for ; v.Kind == List || v.Kind == Map; v = v.Elem {
		if v.Kind == List {
			s += "[]"
		} else {
			s += ".NAME"
		}
	}
	return s
}

// object lists t's fields under path, then a subsection per nested object.
func (w *roff) object(t *Type, path string) {
	w.line(".PP")
	w.line(fmt.Sprintf(`Keys of \fB%s\fR:`, w.esc(path)))
	for _, f := range t.Fields {
		w.field(f)
	}
	for _, f := range t.Fields {
		if obj := objectOf(f.Value); obj != nil {
			sub := path + "." + f.Key + suffix(f.Value)
			w.line(".SS " + w.esc(sub))
			w.text(obj.Doc)
			w.object(obj, sub)
		}
	}
}

// field writes one key: name, type, default, description, allowed values.
func (w *roff) field(f *Field) {
	w.line(".TP")
	head := fmt.Sprintf(`\fB%s\fR (\fI%s\fR`, w.esc(f.Key), w.esc(typeName(f.Value)))
	if f.Required {
		head += ", required"
	}
	if f.Default != nil {
		head += fmt.Sprintf(`, default \fB%s\fR`, w.esc(fmt.Sprint(jsonDefault(f.Default))))
	}
	w.line(head + ")")
	desc := f.Doc
	if allowed := allowedText(f.Value); allowed != "" {
		desc = strings.TrimSpace(desc + " " + allowed)
	}
	if desc == "" && objectOf(f.Value) != nil {
		desc = objectOf(f.Value).Doc
	}
	w.text(desc)
}

// typeName is how the man page names a value's type.
func typeName(v *Value) string {
	switch v.Kind {
	case List:
		return "list of " + typeName(v.Elem)
	case Map:
		return "mapping of names to " + typeName(v.Elem)
	case Object:
		return "mapping"
	}
	if s, ok := valueSummary[v.Scalar]; ok {
		return s
	}
	return v.Scalar
}

// allowedText says in words what a value's rule allows.
func allowedText(v *Value) string {
	r := v.Rule
	if v.Kind == List && r.Items != nil {
		r = *r.Items
	}
	var parts []string
	if len(r.Enum) == 1 {
		parts = append(parts, fmt.Sprintf("Must be %v.", r.Enum[0]))
	} else if len(r.Enum) > 1 {
		s := make([]string, len(r.Enum))
		for i, e := range r.Enum {
			s[i] = fmt.Sprint(e)
		}
		parts = append(parts, "One of: "+strings.Join(s, ", ")+".")
	}
	switch {
	case r.Min != nil && r.Max != nil:
		parts = append(parts, fmt.Sprintf("From %d to %d.", *r.Min, *r.Max))
	case r.Min != nil:
		parts = append(parts, fmt.Sprintf("At least %d.", *r.Min))
	}
	if len(r.Not) > 0 {
		parts = append(parts, fmt.Sprintf("Not %v.", r.Not[0]))
	}
	if r.MinItems > 0 {
		parts = append(parts, fmt.Sprintf("At least %d.", r.MinItems))
	}
	if r.MaxLen > 0 {
		parts = append(parts, fmt.Sprintf("At most %d characters.", r.MaxLen))
	}
	return strings.Join(parts, " ")
}

// roff writes man(7) source.
type roff struct{ bytes.Buffer }

func (w *roff) line(s string) { w.WriteString(s + "\n") }

// text writes prose; `code` spans become bold.
func (w *roff) text(s string) {
	if s == "" {
		return
	}
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString(`\fB` + w.escCode(p) + `\fR`)
		} else {
			b.WriteString(w.esc(p))
		}
	}
	w.line(w.escStart(b.String()))
}

func (w *roff) para(s string) {
	w.line(".PP")
	w.text(s)
}

// esc escapes backslashes for roff.
func (w *roff) esc(s string) string { return strings.ReplaceAll(s, `\`, `\e`) }

// escCode also makes hyphens real minus signs, as commands and keys need.
func (w *roff) escCode(s string) string { return strings.ReplaceAll(w.esc(s), "-", `\-`) }

// escStart keeps a line beginning with . or ' from being a request.
func (w *roff) escStart(s string) string {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		return `\&` + s
	}
	return s
}

// escLine escapes one line of an example.
func (w *roff) escLine(s string) string {
	if s == "" {
		return `\&`
	}
	return w.escStart(w.escCode(s))
}
