package convert

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"unicode"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

// Options controls a conversion.
type Options struct {
	// Strict turns keywords the model cannot express into errors.
	Strict bool
	// Parse is passed to the keepalived parser (config id, file access).
	Parse keepalived.Options
}

// Result is a converted configuration.
type Result struct {
	Model       *model.Model
	Diagnostics []Diagnostic
	// Files read (main file first, then includes).
	Files []string

	comments    map[any][]string
	docComments []string
	scriptOrder []string
}

// Errors counts error diagnostics (Unsupported counts with strict).
func (r *Result) Errors(strict bool) int {
	n := 0
	for _, d := range r.Diagnostics {
		if d.Severity == Error || strict && d.strictError() {
			n++
		}
	}
	return n
}

// File converts a keepalived configuration file. On errors the Result still
// carries every diagnostic and the error is a *ConversionError (or a read
// error).
func File(path string, opt Options) (*Result, error) {
	pr, err := keepalived.ParseFile(path, opt.Parse)
	return finish(pr, err, opt)
}

// Bytes converts configuration text; name is used in positions.
func Bytes(data []byte, name string, opt Options) (*Result, error) {
	pr, err := keepalived.Parse(data, name, opt.Parse)
	return finish(pr, err, opt)
}

func finish(pr *keepalived.Result, err error, opt Options) (*Result, error) {
	if err != nil {
		if pe, ok := err.(*keepalived.Error); ok {
			r := &Result{}
			for _, d := range pe.Diags {
				r.Diagnostics = append(r.Diagnostics, Diagnostic{Pos: d.Pos, Severity: Error, Msg: d.Msg})
			}
			return r, &ConversionError{Errors: len(pe.Diags)}
		}
		return nil, err
	}
	// keepalived reads a '{' after a keyword that opens no block there as
	// no block at all; the converter reads the tree keepalived reads.
	warns := append(pr.Warnings, keepalived.Reshape(pr.Root, opens)...)
	r := Tree(pr.Root)
	r.Files = pr.Files
	var pw []Diagnostic
	for _, w := range warns {
		sev := Warning
		if w.Corrected {
			sev = Corrected
		}
		pw = append(pw, Diagnostic{Pos: w.Pos, Severity: sev, Msg: w.Msg})
	}
	r.Diagnostics = append(pw, r.Diagnostics...)
	sortDiags(r.Diagnostics)
	if strict := opt.Strict; r.Errors(strict) > 0 {
		if strict {
			for i := range r.Diagnostics {
				if r.Diagnostics[i].strictError() {
					r.Diagnostics[i].Severity = Error
					r.Diagnostics[i].Msg += " (--strict)"
				}
			}
		}
		return r, &ConversionError{Errors: r.Errors(strict)}
	}
	return r, nil
}

// sortDiags keeps file order: by file of first appearance, then line.
func sortDiags(ds []Diagnostic) {
	first := map[string]int{}
	for i, d := range ds {
		if _, ok := first[d.Pos.File]; !ok {
			first[d.Pos.File] = i
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return first[a.File] < first[b.File]
		}
		return a.Line < b.Line
	})
}

type conv struct {
	m           *model.Model
	diags       []Diagnostic
	comments    map[any][]string
	docComments []string
	scriptOrder []string

	trackFiles   map[string]*trackFile // by name
	groupNodes   map[string]*keepalived.Node
	defaultIface string
	instNames    map[string]bool
	syncDaemon   *keepalived.Node
	vips         map[string]vipOwner
	vroutes      map[state.RouteKey]vipOwner    // virtual routes' first owners
	vipsTaken    map[*model.VRRPInstance]string // instances that lost a VIP to an owner
	services     map[string]keepalived.Pos
	// serviceOwner: the virtual server that declared each service.
	serviceOwner map[string]*model.VirtualServer
	// pos maps model objects to the statement they came from, for
	// errors found by the model's own validation.
	pos     map[any]keepalived.Pos
	rootPos keepalived.Pos
}

func (c *conv) errorf(p keepalived.Pos, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: p, Severity: Error, Msg: fmt.Sprintf(format, args...)})
}

func (c *conv) warnf(p keepalived.Pos, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: p, Severity: Warning, Msg: fmt.Sprintf(format, args...)})
}

// scriptUserNote warns that a notify or quorum script's own user
// (keepalived: `notify_master SCRIPT USER [GROUP]`) is not carried: the
// model has no per-script user for these, so lbx runs the script as the
// default script user, which may have more rights than the one written.
func (c *conv) scriptUserNote(owner any, n *keepalived.Node) {
	c.note(owner, n.Pos, "%s runs as user %q in keepalived; the model has no user of its own for this script: lbx runs it as the default script user (global.script_user, else keepalived_script if it exists, else root); set script_user, or wrap the script (e.g. runuser -u %s -- SCRIPT)", n.Name, strings.TrimSpace(n.Args[1].Text+" "+argText(n, 2)), n.Args[1].Text)
}

// note adds a warning that is also written as a comment on owner.
func (c *conv) note(owner any, p keepalived.Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.diags = append(c.diags, Diagnostic{Pos: p, Severity: Warning, Msg: msg})
	c.comment(owner, fmt.Sprintf("%s: %s", p, msg))
}

func (c *conv) comment(owner any, text string) {
	if owner == nil {
		c.docComments = append(c.docComments, text)
		return
	}
	c.comments[owner] = append(c.comments[owner], text)
}

// unsupported reports a statement the model cannot express and keeps it as a
// comment on owner (nil: the top of the document).
func (c *conv) unsupported(owner any, n *keepalived.Node, why string) {
	msg := fmt.Sprintf("%q is not expressible in the lbx model (%s); left out", n.Source(), why)
	c.diags = append(c.diags, Diagnostic{Pos: n.Pos, Severity: Unsupported, Msg: msg})
	c.comment(owner, fmt.Sprintf("%s: not converted: %s  # %s", n.Pos, n.Source(), why))
}

// unknown handles a keyword: known-but-inexpressible ones get their reason,
// others are reported as unknown (keepalived ignores those too).
func (c *conv) unknown(owner any, n *keepalived.Node, known map[string]string) {
	if why, ok := known[n.Name]; ok {
		c.unsupported(owner, n, why)
		return
	}
	msg := fmt.Sprintf("unknown keyword %q here; keepalived ignores it, so does lbx", n.Name)
	if hint, ok := unknownHints[n.Name]; ok {
		msg += "; " + hint
	}
	if clean := strings.Join(strings.FieldsFunc(n.Name, unicode.IsSpace), " "); clean != n.Name {
		msg += fmt.Sprintf(" — the word holds Unicode white space (such as U+00A0, no-break space), which keepalived does not read as space: probably `%s` was meant", clean)
	}
	c.diags = append(c.diags, Diagnostic{Pos: n.Pos, Severity: Unsupported, Msg: msg})
	c.comment(owner, fmt.Sprintf("%s: not converted: %s  # unknown keyword", n.Pos, n.Source()))
}

// corrected reports a value keepalived corrects and runs with: the model
// gets keepalived's effective value, the message says what keepalived does
// and the probable intent; an error under --strict.
func (c *conv) corrected(owner any, p keepalived.Pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.diags = append(c.diags, Diagnostic{Pos: p, Severity: Corrected, Msg: msg})
	c.comment(owner, fmt.Sprintf("%s: %s", p, msg))
}

// unknownHints name the probable intent behind keywords keepalived 2.2.7
// does not know where they are written (checked in its parsers: the
// keyword is installed elsewhere only).
var unknownHints = map[string]string{
	"nb_get_retry":              "keepalived 2.2.7 reads nb_get_retry only inside HTTP_GET and SSL_GET (check_http.c), so the retries stay at keepalived's default here — write `retry N` if they were meant",
	"lb_kind":                   "keepalived 2.2.7 reads lb_kind in a virtual_server only; a real server's method is lvs_method",
	"lvs_sync_daemon_interface": "keepalived 2.2.7 reads lvs_sync_daemon_interface only inside a vrrp_instance; in global_defs write lvs_sync_daemon INTERFACE VRRP_INSTANCE",
	"connect_timeout":           "MISC_CHECK has no connect_timeout in keepalived (install_checker_common_keywords(false)); misc_timeout bounds the script",
	"virtualhost":               "keepalived reads virtualhost in virtual_server, real_server, HTTP_GET, SSL_GET and url blocks only",
}

// legacy warns about a deprecated form that was converted.
func (c *conv) legacy(owner any, n *keepalived.Node, modern string) {
	c.note(owner, n.Pos, "%q is a legacy form; converted as %s", n.Name, modern)
}

// Tree converts a parsed configuration.
func Tree(root *keepalived.Node) *Result {
	c := &conv{
		m:            &model.Model{Version: model.Version, Scripts: map[string]*model.Script{}},
		comments:     map[any][]string{},
		trackFiles:   map[string]*trackFile{},
		groupNodes:   map[string]*keepalived.Node{},
		instNames:    map[string]bool{},
		vips:         map[string]vipOwner{},
		services:     map[string]keepalived.Pos{},
		serviceOwner: map[string]*model.VirtualServer{},
		pos:          map[any]keepalived.Pos{},
		rootPos:      root.Pos,
	}
	// First pass: names other sections refer to.
	for _, n := range root.Children {
		switch n.Name {
		case "track_file":
			if tf := readTrackFile(n); tf != nil {
				c.trackFiles[n.Arg(0)] = tf
			}
		case "global_defs":
			for _, ch := range n.Children {
				if ch.Name == "default_interface" && len(ch.Args) > 0 {
					c.defaultIface = ch.Args[0].Text
				}
			}
		case "vrrp_instance":
			c.instNames[n.Arg(0)] = true
		case "virtual_server_group":
			// keepalived resolves groups after reading everything; a
			// virtual_server may name a group defined below it.
			if n.Block {
				c.vsGroup(n)
			}
		}
	}
	for _, n := range root.Children {
		if !n.Block && blockKeywords[n.Name] {
			c.errorf(n.Pos, "%s wants a { } block", n.Name)
			continue
		}
		switch n.Name {
		case "global_defs":
			c.global(n)
		case "vrrp_script":
			c.script(n)
		case "vrrp_instance":
			c.instance(n)
		case "vrrp_sync_group":
			c.syncGroup(n)
		case "static_ipaddress":
			c.staticAddresses(n)
		case "static_routes":
			c.m.Routes = append(c.m.Routes, c.routes(n)...)
		case "static_rules":
			c.rules(nil, n)
		case "virtual_server_group":
			// First pass.
		case "virtual_server":
			c.virtualServer(n)
		case "track_file":
			// Read in the first pass; FILE_CHECK uses it.
		default:
			c.unknown(nil, n, topUnsupported)
		}
	}
	c.finishSyncDaemon()
	if len(c.m.Scripts) == 0 {
		c.m.Scripts = nil
	}
	r := &Result{Model: c.m, comments: c.comments, docComments: c.docComments, scriptOrder: c.scriptOrder}
	if !hasErrors(c.diags) {
		c.checkModel(r)
	}
	r.Diagnostics = c.diags
	return r
}

func hasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

var blockKeywords = map[string]bool{
	"global_defs": true, "vrrp_script": true, "vrrp_instance": true, "vrrp_sync_group": true,
	"virtual_server_group": true, "virtual_server": true, "static_ipaddress": true,
	"static_routes": true,
}

var topUnsupported = map[string]string{
	"static_rules":             "policy rules are not in the model",
	"vrrp_track_process":       "process tracking is not in the model",
	"track_process":            "process tracking is not in the model",
	"bfd_instance":             "BFD is not in the model",
	"SSL":                      "SSL client certificates for SSL_GET are not in the model",
	"linkbeat_interfaces":      "link-beat polling is not in the model",
	"net_namespace":            "run lbx itself in the namespace (ip netns exec)",
	"net_namespace_ipvs":       "run lbx itself in the namespace (ip netns exec)",
	"instance":                 "one lbx per model file; no instance names",
	"use_pid_dir":              "pid files are the service manager's job",
	"child_wait_time":          "lbx has no child processes",
	"linkbeat_use_polling":     "link-beat polling is not in the model",
	"interface_up_down_delays": "interface debouncing is not in the model",
	"track_group":              "static track groups are not in the model",
	"vrrp_track_file":          "track files for VRRP are not in the model",
	"namespace_with_ipsets":    "ipsets are not in the model",
	"garp_group":               "GARP interval groups are not in the model",
}

// ----- global_defs -----

var globalUnsupported = map[string]string{
	"vrrp_skip_check_adv_addr":     "lbx always checks advert addresses",
	"vrrp_garp_interval":           "per-packet GARP spacing is not in the model",
	"vrrp_gna_interval":            "per-packet NA spacing is not in the model",
	"vrrp_mcast_group4":            "lbx uses the RFC multicast group",
	"vrrp_mcast_group6":            "lbx uses the RFC multicast group",
	"vrrp_iptables":                "lbx does not write firewall rules",
	"vrrp_ipsets":                  "lbx does not write firewall rules",
	"nftables":                     "lbx does not write firewall rules",
	"vrrp_priority":                "process priorities are the service manager's job",
	"checker_priority":             "process priorities are the service manager's job",
	"vrrp_no_swap":                 "process settings are the service manager's job",
	"checker_no_swap":              "process settings are the service manager's job",
	"notify_fifo":                  "notify FIFOs are not in the model",
	"vrrp_notify_fifo":             "notify FIFOs are not in the model",
	"lvs_notify_fifo":              "notify FIFOs are not in the model",
	"notify_fifo_script":           "notify FIFOs are not in the model",
	"smtp_alert":                   "e-mail alert defaults are per instance in the model",
	"smtp_alert_vrrp":              "e-mail alert defaults are per instance in the model",
	"smtp_alert_checker":           "checker e-mail alerts are not in the model",
	"smtp_helo_name":               "SMTP HELO name is not in the model",
	"lvs_timeouts":                 "IPVS connection timeouts are not in the model",
	"lvs_flush":                    "lbx never flushes IPVS; it changes only what differs",
	"lvs_flush_onstop":             "lbx never flushes IPVS",
	"enable_traps":                 "SNMP is not in the model",
	"enable_snmp_vrrp":             "SNMP is not in the model",
	"enable_snmp_checker":          "SNMP is not in the model",
	"enable_snmp_rfc":              "SNMP is not in the model",
	"enable_dbus":                  "D-Bus is not in the model",
	"default_interface":            "converted: static addresses without dev use it",
	"dynamic_interfaces":           "interface handling is not configurable in the model",
	"vrrp_check_unicast_src":       "unicast source checking is not configurable in the model",
	"vrrp_lower_prio_no_advert":    "not in the model",
	"vrrp_higher_prio_send_advert": "not in the model",
	"max_auto_priority":            "process priorities are the service manager's job",
	"checker_log_all_failures":     "logging detail is not in the model",
	"no_email_faults":              "not in the model",
	"vrrp_garp_lower_prio_delay":   "not in the model",
	"vrrp_garp_lower_prio_repeat":  "not in the model",
	"vrrp_min_garp":                "not in the model",
	"random_seed":                  "not in the model",
	"process_names":                "process names are not in the model",
}

func (c *conv) global(n *keepalived.Node) {
	g := &c.m.Global
	for _, ch := range n.Children {
		switch ch.Name {
		case "router_id":
			if c.need(ch, 1, "a name") {
				g.RouterID = ch.Args[0].Text
			}
		case "enable_script_security":
			g.EnableScriptSecurity = boolp(true)
		case "script_user":
			if c.need(ch, 1, "a user name") {
				g.ScriptUser = ch.Args[0].Text
				if len(ch.Args) > 1 {
					g.ScriptGroup = strings.TrimPrefix(ch.Args[1].Text, ":")
				}
			}
		case "notification_email":
			for _, e := range ch.Children {
				g.NotificationEmail = append(g.NotificationEmail, strings.TrimSpace(e.Name+" "+e.ArgText()))
			}
			for _, a := range ch.Args {
				g.NotificationEmail = append(g.NotificationEmail, a.Text)
			}
		case "notification_email_from":
			if c.need(ch, 1, "an address") {
				g.NotificationEmailFrom = ch.Args[0].Text
			}
		case "smtp_server":
			if c.need(ch, 1, "an address") {
				g.SMTPServer = ch.Args[0].Text
				if len(ch.Args) > 1 {
					g.SMTPServer += ":" + ch.Args[1].Text
				}
			}
		case "smtp_connect_timeout":
			g.SMTPConnectTimeout = c.timer(ch)
		case "vrrp_garp_master_delay":
			g.VRRPGarpMasterDelay = c.timer(ch)
		case "vrrp_garp_master_repeat":
			g.VRRPGarpMasterRepeat = c.intPtr(ch, 0, 255)
		case "vrrp_garp_master_refresh":
			g.VRRPGarpMasterRefresh = c.timer(ch)
		case "vrrp_version":
			g.VRRPVersion = c.intPtr(ch, 2, 3)
		case "vrrp_strict":
			g.VRRPStrict = true
		case "lvs_sync_daemon":
			c.lvsSyncDaemon(ch, "")
		case "default_interface":
			// Used for static addresses without dev (first pass).
		default:
			c.unknown(&c.m.Global, ch, globalUnsupported)
		}
	}
}

func (c *conv) lvsSyncDaemon(n *keepalived.Node, inst string) {
	if !c.need(n, 1, "an interface") {
		return
	}
	s := &model.LVSSyncDaemon{Interface: n.Args[0].Text, VRRPInstance: inst}
	args := n.Args[1:]
	// number reads the value of keyword args[i] within keepalived's bounds.
	number := func(i, lo, hi int) int {
		v, err := parseInt(args[i+1].Text, lo, hi)
		if err != nil {
			c.errorf(n.Pos, "lvs_sync_daemon %s: want %d..%d, got %q", args[i].Text, lo, hi, args[i+1].Text)
		}
		return v
	}
	for i := 0; i < len(args); i++ {
		a := args[i].Text
		switch {
		case a == "inst" || a == "id" || a == "maxlen" || a == "port" || a == "ttl" || a == "group":
			if i+1 >= len(args) {
				c.errorf(n.Pos, "lvs_sync_daemon %s: missing its value", a)
				continue
			}
			switch a {
			case "inst":
				s.VRRPInstance = args[i+1].Text
			case "id":
				id := number(i, 0, 255)
				s.SyncID = &id
			case "maxlen":
				s.MaxLen = number(i, 1, 65507)
			case "port":
				s.Port = number(i, 1, 65535)
			case "ttl":
				s.TTL = number(i, 1, 255)
			case "group":
				g, err := netip.ParseAddr(args[i+1].Text)
				if err != nil || !g.IsMulticast() {
					c.errorf(n.Pos, "lvs_sync_daemon group: want a multicast address, got %q", args[i+1].Text)
				} else {
					s.Group = &model.Addr{Addr: g}
				}
			}
			i++
		case i == 0:
			s.VRRPInstance = a
		case i == 1 && s.SyncID == nil:
			// The old positional form IF INSTANCE SYNCID, which keepalived
			// still reads ("Please use keyword \"id\" ...").
			id := number(i-1, 0, 255)
			s.SyncID = &id
			c.legacy(&c.m.Global, n, "lvs_sync_daemon INTERFACE INSTANCE id SYNCID")
		default:
			c.errorf(n.Pos, "lvs_sync_daemon: unexpected %q", a)
		}
	}
	c.setSyncDaemon(n, s)
}

// setSyncDaemon keeps the first sync daemon given: keepalived's
// lvs_syncd_handler and vrrp_lvs_syncd_handler ignore any later one ("has
// already been specified ... - ignoring").
func (c *conv) setSyncDaemon(n *keepalived.Node, s *model.LVSSyncDaemon) {
	if c.syncDaemon != nil {
		c.note(&c.m.Global, n.Pos, "%s given again: keepalived keeps the first, at %s (\"lvs_sync_daemon has already been specified ... - ignoring\"), so does lbx", n.Name, c.syncDaemon.Pos)
		return
	}
	c.syncDaemon = n
	c.m.Global.LVSSyncDaemon = s
}

// finishSyncDaemon applies keepalived's default sync id: the VRID of the
// instance it follows.
func (c *conv) finishSyncDaemon() {
	s := c.m.Global.LVSSyncDaemon
	if s == nil {
		return
	}
	// Without an instance keepalived's checker process runs a master and
	// a backup daemon at once (start_check in check/check_daemon.c, sync
	// id 0 unless given); the model's daemon follows an instance.
	if s.VRRPInstance == "" {
		id := 0
		if s.SyncID != nil {
			id = *s.SyncID
		}
		c.unsupported(&c.m.Global, c.syncDaemon, fmt.Sprintf("without a VRRP instance keepalived runs both a master and a backup sync daemon on %s with sync id %d (start_check); the model's sync daemon follows a VRRP instance, master while it is MASTER — name one (lvs_sync_daemon %s VI_NAME) to convert it", s.Interface, id, s.Interface))
		c.m.Global.LVSSyncDaemon = nil
		return
	}
	if !c.instNames[s.VRRPInstance] {
		c.note(&c.m.Global, c.syncDaemon.Pos, "lvs_sync_daemon: no vrrp_instance named %q, so keepalived runs no sync daemon; left out", s.VRRPInstance)
		c.m.Global.LVSSyncDaemon = nil
		return
	}
	for _, in := range c.m.VRRPInstances {
		if in.Name == s.VRRPInstance && s.SyncID == nil {
			id := in.VirtualRouterID
			s.SyncID = &id
		}
	}
}

// ----- vrrp_script -----

func (c *conv) script(n *keepalived.Node) {
	if !c.need(n, 1, "a name") {
		return
	}
	name := n.Args[0].Text
	if prev, dup := c.m.Scripts[name]; dup {
		// keepalived allocates both; find_script_by_name gives trackers
		// the first, and vrrp_complete_init frees the untracked second.
		c.corrected(prev, n.Pos, "vrrp_script %s is defined again (first at %s): keepalived keeps both, but track_script finds the first (find_script_by_name) and drops this one as unused (\"Warning - script %s is not used\"), so lbx keeps the first; rename one if both were meant", name, c.pos[prev], name)
		return
	}
	s := &model.Script{Interval: dur(model.DefaultScriptInterval), Rise: intp(model.DefaultScriptRise), Fall: intp(model.DefaultScriptFall)}
	for _, ch := range n.Children {
		switch ch.Name {
		case "script":
			if c.need(ch, 1, "a command") {
				s.Script = ch.Args[0].Text
				if len(ch.Args) > 1 {
					s.User = ch.Args[1].Text
				}
				if len(ch.Args) > 2 {
					s.Group = strings.TrimPrefix(ch.Args[2].Text, ":")
				}
			}
		case "interval":
			if d := c.timer(ch); d != nil {
				s.Interval = d
			}
		case "timeout":
			s.Timeout = c.timer(ch)
		case "weight":
			if v, ok := c.intArg(ch, 0, -253, 253); ok {
				s.Weight = v
			}
			if len(ch.Args) > 1 {
				if ch.Args[1].Text == "reverse" {
					s.Reverse = true
				} else {
					c.errorf(ch.Pos, "weight: unexpected %q (want `reverse`)", ch.Args[1].Text)
				}
			}
		case "rise":
			s.Rise = c.intPtr(ch, 1, 1<<31-1)
		case "fall":
			s.Fall = c.intPtr(ch, 1, 1<<31-1)
		case "user":
			if c.need(ch, 1, "a user name") {
				s.User = ch.Args[0].Text
				if len(ch.Args) > 1 {
					s.Group = strings.TrimPrefix(ch.Args[1].Text, ":")
				}
			}
		case "init_fail":
			s.InitFail = true
		default:
			c.unknown(s, ch, nil)
		}
	}
	if s.Script == "" {
		// vrrp_vscript_end_handler removes it; track_script lines naming
		// it are then ignored ("track script ... not found, ignoring").
		c.corrected(nil, n.Pos, "vrrp_script %s has no script: keepalived removes it (\"No script set for vrrp_script %s - removing\", vrrp_vscript_end_handler) and ignores the instances' track_script lines naming it, so does lbx", name, name)
		return
	}
	if s.Timeout == nil && s.Interval != nil {
		// keepalived: a script may run for up to its interval.
		s.Timeout = dur(s.Interval.Duration)
	}
	c.m.Scripts[name] = s
	c.pos[s] = n.Pos
	c.scriptOrder = append(c.scriptOrder, name)
}

func parseInt(s string, lo, hi int) (int, error) {
	var v int
	_, err := fmt.Sscanf(s, "%d", &v)
	if err != nil || fmt.Sprint(v) != strings.TrimPrefix(s, "+") || v < lo || v > hi {
		return 0, fmt.Errorf("want %d..%d", lo, hi)
	}
	return v, nil
}

// ----- static addresses, routes, rules -----

func (c *conv) staticAddresses(n *keepalived.Node) {
	for _, ch := range n.Children {
		a := &model.StaticAddress{}
		va := c.vipLine(a, ch)
		if va == nil {
			continue
		}
		a.Address, a.Interface, a.Label, a.Scope = va.Address, va.Interface, va.Label, va.Scope
		if a.Interface == "" {
			a.Interface = c.defaultIface
			if a.Interface == "" {
				a.Interface = "eth0"
			}
			c.note(a, ch.Pos, "static address without dev: keepalived puts it on default_interface (%s)", a.Interface)
		}
		c.pos[a] = ch.Pos
		c.m.Addresses = append(c.m.Addresses, a)
	}
}

var ruleAddrAfter = map[string]bool{"from": true, "to": true}

// rules reports a policy rules block as not expressible, but still
// refuses invalid addresses in it, as keepalived does.
func (c *conv) rules(owner any, n *keepalived.Node) {
	c.unsupported(owner, n, "policy rules are not in the model")
	for _, ch := range n.Children {
		words := append([]string{ch.Name}, argTexts(ch)...)
		for i, w := range words {
			first := i == 0 && w != "" && (w[0] >= '0' && w[0] <= '9' || strings.Contains(w, ":"))
			after := i > 0 && ruleAddrAfter[words[i-1]]
			if first || after {
				c.validateAddrWord(ch.Pos, w)
			}
		}
	}
}

func argTexts(n *keepalived.Node) []string {
	out := make([]string, len(n.Args))
	for i, a := range n.Args {
		out[i] = a.Text
	}
	return out
}

// argText is n's argument i, "" if it has none.
func argText(n *keepalived.Node, i int) string {
	if i < len(n.Args) {
		return n.Args[i].Text
	}
	return ""
}
