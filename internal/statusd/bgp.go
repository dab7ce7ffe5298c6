package statusd

import (
	"fmt"
	"io"
	"time"
)

// BGP is the scale-out part of the status: the sessions and what each
// announced prefix is doing.
type BGP struct {
	Announcer string    `json:"announcer"` // gobgp or kernel
	LocalAS   uint32    `json:"local_as,omitempty"`
	RouterID  string    `json:"router_id,omitempty"`
	Peers     []BGPPeer `json:"peers"`
	Prefixes  []BGPVIP  `json:"prefixes"`
	// Error is the speaker's last failure (start, a peer, a path).
	Error string `json:"error,omitempty"`
	// SpeakerRestarts counts the speaker processes (lbx-bgp) started again
	// after one died.
	SpeakerRestarts int `json:"speaker_restarts"`
}

// BGPPeer is one session.
type BGPPeer struct {
	Address string `json:"address"`
	AS      uint32 `json:"as"`
	State   string `json:"state"` // idle, connect, active, opensent, openconfirm, established
	// Up is when the session was established (absent: not up).
	Up *time.Time `json:"up,omitempty"`
	// PrefixesSent is how many prefixes the peer holds from this
	// director; UpdatesSent how many UPDATE messages it was sent.
	PrefixesSent uint64 `json:"prefixes_sent"`
	UpdatesSent  uint64 `json:"updates_sent"`
}

// BGPVIP is one announced prefix.
type BGPVIP struct {
	Prefix    string `json:"prefix"`
	Announced bool   `json:"announced"`
	// Reason says why it is (not) announced; Since when that last changed.
	Reason string     `json:"reason"`
	Since  *time.Time `json:"since,omitempty"`
	// PendingUntil is when a running hold-down ends.
	PendingUntil *time.Time `json:"pending_until,omitempty"`
}

// writeBGP writes the BGP tables of `lbx status` (tw is a tabwriter).
func writeBGP(tw io.Writer, b *BGP, now time.Time) {
	if b == nil {
		return
	}
	fmt.Fprintf(tw, "\nBGP (%s", b.Announcer)
	if b.LocalAS != 0 {
		fmt.Fprintf(tw, ", AS %d, router id %s", b.LocalAS, b.RouterID)
	}
	fmt.Fprintln(tw, ")")
	if b.SpeakerRestarts > 0 {
		fmt.Fprintf(tw, "speaker process restarted %d time(s)\n", b.SpeakerRestarts)
	}
	if b.Error != "" {
		fmt.Fprintf(tw, "last error: %s\n", oneLine(b.Error))
	}
	if len(b.Peers) > 0 {
		fmt.Fprintln(tw, "PEER\tAS\tSTATE\tUP\tPREFIXES SENT\tUPDATES SENT")
		for _, p := range b.Peers {
			up := "-"
			if p.Up != nil {
				up = age(now, *p.Up)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\n", p.Address, p.AS, p.State, up, p.PrefixesSent, p.UpdatesSent)
		}
	}
	fmt.Fprintln(tw, "\nPREFIX\tANNOUNCED\tSINCE\tWHY")
	for _, v := range b.Prefixes {
		since := "-"
		if v.Since != nil {
			since = age(now, *v.Since)
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", v.Prefix, v.Announced, since, dash(v.Reason))
	}
}
