package statusd

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText renders st for people (`lbx status`): a daemon line, the last
// reconcile, a table of VRRP instances, one of their addresses and
// tracking, a table of real servers and the counters. Times are shown relative to now.
func WriteText(w io.Writer, st *Status, now time.Time) error {
	var b strings.Builder
	d := st.Daemon
	fmt.Fprintf(&b, "lbx watch pid %d", d.PID)
	if d.Version != "" {
		fmt.Fprintf(&b, " (%s)", d.Version)
	}
	if d.Process == "lbx-vrrp" {
		b.WriteString(", in lbx-vrrp")
	}
	fmt.Fprintf(&b, ", up %s, model %s", age(now, d.StartTime), d.ModelFile)
	if d.Node != "" {
		fmt.Fprintf(&b, " as node %s", d.Node)
	}
	if !d.LastReload.IsZero() {
		fmt.Fprintf(&b, ", reloaded %s ago", age(now, d.LastReload))
	}
	b.WriteString("\n")
	if d.LastReloadError != "" {
		fmt.Fprintf(&b, "last reload FAILED (previous model in force): %s\n", d.LastReloadError)
	}
	if r := st.LastReconcile; r != nil {
		fmt.Fprintf(&b, "last reconcile %s ago: %s, %d changes, %d kernel writes, took %s",
			age(now, r.Time), r.Result, r.Changes, r.KernelWrites, secs(r.DurationSeconds))
		if r.Error != "" {
			fmt.Fprintf(&b, ": %s", r.Error)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("no reconcile yet\n")
	}
	if sd := st.SyncDaemon; sd != nil {
		fmt.Fprintf(&b, "IPVS sync daemon: %s on %s, sync id %d", sd.Role, sd.Interface, sd.SyncID)
		if sd.Error != "" {
			fmt.Fprintf(&b, ", NOT RUNNING: %s", oneLine(sd.Error))
		}
		b.WriteString("\n")
	}

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if len(st.VRRP) > 0 {
		fmt.Fprintln(tw, "\nINSTANCE\tINTERFACE\tVRID\tSTATE\tPRIORITY\tSINCE\tREASON")
		for _, in := range st.VRRP {
			prio := fmt.Sprint(in.EffectivePriority)
			if in.EffectivePriority != in.Priority {
				prio = fmt.Sprintf("%d (of %d)", in.EffectivePriority, in.Priority)
			}
			since := "-"
			if !in.LastTransition.IsZero() {
				since = age(now, in.LastTransition)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", in.Name, in.Interface, in.VRID, in.State, prio, since, dash(in.LastReason))
		}
		// Addresses and tracking in a table of their own: address lists
		// are long, and the first table stays readable.
		fmt.Fprintln(tw, "\nINSTANCE\tHELD\tNOT HELD\tTRACKING")
		for _, in := range st.VRRP {
			held, notHeld := addressLists(in.Addresses)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", in.Name, dash(held), dash(notHeld), dash(tracking(in.Tracking)))
		}
	}
	if len(st.RealServers) > 0 {
		up := 0
		for _, r := range st.RealServers {
			if r.Up {
				up++
			}
		}
		fmt.Fprintf(tw, "\nreal servers: %d/%d up\n", up, len(st.RealServers))
		fmt.Fprintln(tw, "SERVICE\tREAL\tHEALTH\tWEIGHT\tLATENCY\tCHECKED\tLAST ERROR")
		for _, r := range st.RealServers {
			h := "down"
			if r.Up {
				h = "up"
			}
			checked := "never"
			if !r.LastCheck.IsZero() {
				checked = age(now, r.LastCheck) + " ago"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Service, r.Real, h, r.Weight, secs(r.LatencySeconds), checked, dash(oneLine(r.LastError)))
		}
	}
	writeBGP(tw, st.BGP, now)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Counters) > 0 {
		keys := make([]string, 0, len(st.Counters))
		for k := range st.Counters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("\ncounters:")
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, st.Counters[k])
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// addressLists splits an instance's addresses into the held and the not
// held ones, comma-separated.
func addressLists(as []Address) (held, notHeld string) {
	var h, n []string
	for _, a := range as {
		if a.Held {
			h = append(h, a.Address)
		} else {
			n = append(n, a.Address)
		}
	}
	return strings.Join(h, ","), strings.Join(n, ",")
}

// tracking says which tracked objects act on the instance now: those that
// hold it in FAULT and those whose weight is applied ("script chk failed:
// -30", "interface eth1 down: FAULT"); the others are left out.
func tracking(ts []Track) string {
	var parts []string
	for _, t := range ts {
		var effect string
		switch {
		case t.Fault:
			effect = "FAULT"
		case t.AppliedWeight != 0:
			effect = fmt.Sprintf("%+d", t.AppliedWeight)
		default:
			continue
		}
		parts = append(parts, trackState(t)+": "+effect)
	}
	return strings.Join(parts, ", ")
}

// trackState words a tracked object and its state.
func trackState(t Track) string {
	switch {
	case t.Kind == TrackScript && t.Up:
		return "script " + t.Name + " ok"
	case t.Kind == TrackScript:
		return "script " + t.Name + " failed"
	case t.Kind == TrackSource && t.Up:
		return "source address on " + t.Name
	case t.Kind == TrackSource:
		return "no source address on " + t.Name
	case t.Up:
		return t.Kind + " " + t.Name + " up"
	}
	return t.Kind + " " + t.Name + " down"
}

// age renders the time since t, rounded for reading: 850ms, 12s, 5m3s, 3h12m, 2d4h.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		// "5m0s" reads "5m"; "1m20s" stays (trimming any "0s" made it "1m2").
		s := d.Round(time.Second).String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		return s
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "m0s") + "m"
	}
	days := d / (24 * time.Hour)
	return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
}

func secs(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
