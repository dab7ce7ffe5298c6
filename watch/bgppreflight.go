package watch

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/lbx-dev/lbx/bgpspeaker"
	"github.com/lbx-dev/lbx/model"
)

// sloppyDir holds IPVS's sloppy_tcp and sloppy_sctp (absent without IPVS).
var sloppyDir = "/proc/sys/net/ipv4/vs"

// bgpPreflight refuses a bgp section this build cannot run or whose
// password files do not read (at file:line), and logs what works on one
// director but breaks flows across several: a scheduler that is not
// consistent, IPVS's sloppy TCP/SCTP off (a director must take over a
// flow another one started).
func bgpPreflight(m *model.Model, log *slog.Logger) error {
	b := m.BGP
	if b == nil {
		return nil
	}
	fe := func(path, msg string) error {
		return model.Errors{{File: m.File, Pos: m.Positions.At(path), Path: path, Msg: msg}}
	}
	if b.AnnouncerOf() == model.AnnouncerGoBGP {
		if _, err := bgpspeaker.Find(); err != nil {
			return fe("bgp", err.Error())
		}
	}
	for i, p := range b.Peers {
		if p.PasswordFile == "" {
			continue
		}
		if _, err := readPassword(p.PasswordFile); err != nil {
			return fe(fmt.Sprintf("bgp.peers[%d].password_file", i), err.Error())
		}
	}
	for _, w := range model.BGPWarnings(m) {
		log.Warn("bgp: " + w.Error())
	}
	anyIPVS := false
	for _, a := range b.Announcements {
		anyIPVS = anyIPVS || a.When != nil && len(a.When.VirtualServers) > 0
	}
	for _, name := range []string{"sloppy_tcp", "sloppy_sctp"} {
		if m.SysctlsOf().Names(name) {
			continue // plan/apply and lbx watch set it (model.BGPWarnings warns when to 0)
		}
		data, err := os.ReadFile(sloppyDir + "/" + name)
		if anyIPVS && err == nil && strings.TrimSpace(string(data)) == "0" {
			log.Warn("bgp: net.ipv4.vs."+name+" is 0: a flow moved here by ECMP from another director is dropped; set it in the model: ipvs: {sysctls: {"+name+": true}}", "file", m.File)
		}
	}
	return nil
}
