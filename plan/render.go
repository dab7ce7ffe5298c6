package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"

	"github.com/lbx-dev/lbx/state"
)

// FormatVersion is the version of the JSON plan document. Consumers should
// check its major number.
const FormatVersion = "1.0"

// symbols are Terraform's action markers.
var symbols = map[Action]string{Create: "+", Update: "~", Delete: "-", Replace: "-/+"}

// colours (ANSI) per action, used only on terminals without NO_COLOR.
var colours = map[Action]string{Create: "\x1b[32m", Update: "\x1b[33m", Delete: "\x1b[31m", Replace: "\x1b[35m"}

// WriteText prints the plan for humans: one line per change with its
// settings, notes, and Terraform's closing line.
func WriteText(w io.Writer, p *Plan, colour bool) error {
	var b strings.Builder
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	if p.Empty() {
		if len(p.Notes) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("No changes. The live state matches the model.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(p.Notes) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("lbx will perform the following actions:\n\n")
	for _, c := range p.Changes {
		// Padded before it is coloured: a width counts the escape codes
		// too, which would push a coloured line's address left.
		sym := fmt.Sprintf("%4s", symbols[c.Action])
		if colour {
			sym = strings.Replace(sym, symbols[c.Action], colours[c.Action]+symbols[c.Action]+"\x1b[0m", 1)
		}
		fmt.Fprintf(&b, "%s %s", sym, c.Address)
		if d := describe(c); d != "" {
			b.WriteString("  ")
			b.WriteString(d)
		}
		if c.Reason != "" && c.Action != Create {
			fmt.Fprintf(&b, "  (%s)", c.Reason)
		}
		b.WriteString("\n")
	}
	add, change, destroy := p.Counts()
	fmt.Fprintf(&b, "\nPlan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
	_, err := io.WriteString(w, b.String())
	return err
}

// describe prints a create's settings or an update's "field: old -> new".
func describe(c Change) string {
	if c.Kind == KindSysctl {
		return describeSysctl(c)
	}
	switch c.Action {
	case Create:
		return settings(c.After())
	case Update, Replace:
		var parts []string
		before, after := reflect.ValueOf(c.Before()).Elem(), reflect.ValueOf(c.After()).Elem()
		for _, f := range c.Fields {
			parts = append(parts, fmt.Sprintf("%s: %v -> %v", f, fieldByJSON(before, f), fieldByJSON(after, f)))
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

func settings(obj any) string {
	switch o := obj.(type) {
	case *state.Service:
		s := "scheduler=" + o.Scheduler
		if o.Timeout > 0 {
			s += fmt.Sprintf(" persistence=%ds/%d", o.Timeout, o.NetmaskBits)
		}
		if o.Flags != 0 {
			s += fmt.Sprintf(" sched_flags=%#x", uint32(o.Flags))
		}
		if o.OnePacket {
			s += " one_packet"
		}
		return s
	case *state.Real:
		s := fmt.Sprintf("weight=%d forwarding=%s", o.Weight, o.Forwarding)
		if o.UpperThreshold > 0 || o.LowerThreshold > 0 {
			s += fmt.Sprintf(" thresholds=%d/%d", o.UpperThreshold, o.LowerThreshold)
		}
		if o.TunnelType != "" {
			s += fmt.Sprintf(" tunnel=%s:%d", o.TunnelType, o.TunnelPort)
			if o.TunnelChecksum != "" {
				s += ":" + o.TunnelChecksum
			}
		}
		return s
	case *state.Route:
		return o.Describe()
	case *state.Address:
		s := fmt.Sprintf("%s", o.Prefix())
		if o.Label != "" {
			s += " label=" + o.Label
		}
		if o.Scope != "" && o.Scope != "global" {
			s += " scope=" + o.Scope
		}
		return s
	}
	return ""
}

func fieldByJSON(v reflect.Value, name string) any {
	for i := 0; i < v.NumField(); i++ {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if tag == name {
			x := v.Field(i).Interface()
			if s, ok := x.(string); ok && s == "" {
				return `""`
			}
			if a, ok := x.(netip.Addr); ok && !a.IsValid() {
				return "none"
			}
			return x
		}
	}
	return "?"
}

// jsonChange is one entry of resource_changes, in Terraform's shape.
type jsonChange struct {
	Address string         `json:"address"`
	Type    Kind           `json:"type"`
	Change  jsonChangeBody `json:"change"`
	Reason  string         `json:"action_reason,omitempty"`
	Fields  []string       `json:"changed_fields,omitempty"`
	Drain   int            `json:"drain_seconds,omitempty"`
}

type jsonChangeBody struct {
	Actions []string `json:"actions"`
	Before  any      `json:"before"`
	After   any      `json:"after"`
}

// JSONDoc is the machine-readable plan (`lbx plan -o json`).
type JSONDoc struct {
	FormatVersion   string       `json:"format_version"`
	ResourceChanges []jsonChange `json:"resource_changes"`
	Summary         struct {
		Add     int `json:"add"`
		Change  int `json:"change"`
		Destroy int `json:"destroy"`
	} `json:"summary"`
	Changed     bool     `json:"changed"`
	Notes       []string `json:"notes"`
	Fingerprint string   `json:"fingerprint"`
}

// actionsOf maps an action to Terraform's action list.
func actionsOf(a Action) []string {
	if a == Replace {
		return []string{"delete", "create"}
	}
	return []string{string(a)}
}

// JSON builds the machine-readable document.
func JSON(p *Plan) JSONDoc {
	doc := JSONDoc{FormatVersion: FormatVersion, ResourceChanges: []jsonChange{}, Notes: p.Notes, Fingerprint: p.Fingerprint}
	if doc.Notes == nil {
		doc.Notes = []string{}
	}
	for _, c := range p.Changes {
		doc.ResourceChanges = append(doc.ResourceChanges, jsonChange{
			Address: c.Address, Type: c.Kind, Reason: c.Reason, Fields: c.Fields, Drain: c.DrainSeconds,
			Change: jsonChangeBody{Actions: actionsOf(c.Action), Before: c.Before(), After: c.After()},
		})
	}
	doc.Summary.Add, doc.Summary.Change, doc.Summary.Destroy = p.Counts()
	doc.Changed = !p.Empty()
	return doc
}

// WriteJSON prints the machine-readable plan.
func WriteJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSON(p))
}
