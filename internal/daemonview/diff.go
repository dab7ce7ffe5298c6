package daemonview

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Actions of a Change, as plan's JSON names them.
const (
	Create = "create"
	Update = "update"
	Delete = "delete"
)

// Change is one daemon-owned object that differs between two views.
// Before is nil for a create, After for a delete.
type Change struct {
	Address string         `json:"address"`
	Kind    string         `json:"kind"`
	Action  string         `json:"action"`
	Fields  []string       `json:"changed_fields,omitempty"` // top-level settings an update changes
	Before  map[string]any `json:"before"`
	After   map[string]any `json:"after"`
}

// Diff lists what turns the running view into next, ordered by address.
// It is pure: views from Of and views decoded from the status socket
// compare alike.
func Diff(running, next []Object) []Change {
	old := map[string]Object{}
	for _, o := range running {
		old[o.Address] = o
	}
	seen := map[string]bool{}
	var out []Change
	for _, n := range next {
		seen[n.Address] = true
		o, ok := old[n.Address]
		if !ok {
			out = append(out, Change{Address: n.Address, Kind: n.Kind, Action: Create, After: n.Settings})
			continue
		}
		if fields := changedFields(o.Settings, n.Settings); len(fields) > 0 {
			out = append(out, Change{Address: n.Address, Kind: n.Kind, Action: Update, Fields: fields, Before: o.Settings, After: n.Settings})
		}
	}
	for _, o := range running {
		if !seen[o.Address] {
			out = append(out, Change{Address: o.Address, Kind: o.Kind, Action: Delete, Before: o.Settings})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// changedFields are the top-level settings that differ, sorted.
func changedFields(before, after map[string]any) []string {
	var out []string
	for k, v := range before {
		if w, ok := after[k]; !ok || !Equal(v, w) {
			out = append(out, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// symbols are the plan's markers.
var symbols = map[string]string{Create: "+", Update: "~", Delete: "-"}

// WriteText prints changes as plan lines under a heading, marked as the
// daemon's: "  ~ vrrp_instance.VI_1  priority: 100 -> 150".
func WriteText(w io.Writer, heading string, changes []Change) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", heading)
	for _, c := range changes {
		fmt.Fprintf(&b, "%4s %s", symbols[c.Action], c.Address)
		if c.Action == Update {
			var parts []string
			for _, f := range c.Fields {
				parts = append(parts, fmt.Sprintf("%s: %s -> %s", f, show(c.Before[f]), show(c.After[f])))
			}
			b.WriteString("  " + strings.Join(parts, ", "))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// show prints a setting: a scalar as itself, anything else as JSON,
// an absent one as "(unset)".
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "(unset)"
	case string:
		return x
	case map[string]any, []any:
		return encode(x)
	}
	return encode(v)
}

// Counts are the changes' numbers: created, updated, deleted.
func Counts(changes []Change) (add, change, destroy int) {
	for _, c := range changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Delete:
			destroy++
		}
	}
	return
}
