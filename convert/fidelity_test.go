package convert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd/vrrpmodel"
)

// fidelityCase is one defect class of issue 25: a configuration keepalived
// 2.2.7 runs, what lbx must convert it to, the positioned warnings, and
// what `keepalived -t` says about the same file (checked by
// TestFidelityKeepalived where keepalived is installed).
type fidelityCase struct {
	name  string
	conf  string            // k.conf
	files map[string]string // more files beside k.conf (includes)
	want  []string          // substrings of the YAML, in order
	not   []string          // not in the YAML
	diag  []string          // substrings of the diagnostics (with k.conf:LINE)
	// strict: a diagnostic substring that --strict turns into an error.
	strict string
	// err: the conversion fails with this diagnostic (no model).
	err string
	// ka: substrings of keepalived -t's report; kaIfaces: the interfaces
	// the file names, made in the namespace keepalived runs in.
	ka       []string
	kaIfaces []string
	// kaNot: what keepalived -t must not report (a refusal of a part).
	kaNot []string
	// kaRefuses: keepalived does not run this file (exit 4, or a crash).
	kaRefuses bool
}

const scriptSecurity = "global_defs {\n enable_script_security\n script_user root\n}\n"

var fidelityCases = []fidelityCase{
	{
		name:   "alpha and omega take no argument: alpha off is on",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n alpha off\n omega 1\n real_server 10.0.1.1 80 {\n }\n}\n",
		want:   []string{"alpha: true", "omega: true"},
		diag:   []string{"k.conf:3: warning: alpha off: alpha in a virtual_server takes no argument in keepalived (vs_alpha_handler), so keepalived has been running this service with alpha on, and so does lbx — remove the line if off was meant", "k.conf:4: warning: omega takes no argument in keepalived (omega_handler); \"1\" is ignored, it is on"},
		strict: "k.conf:3: error: alpha off",
	},
	{
		name:     "unicast_src_ip and unicast_peer: /mask and -range dropped, a malformed peer skipped",
		conf:     "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n unicast_src_ip 10.0.0.2/24\n unicast_peer {\n  10.0.0.3/24\n  10.0.0.4-6\n  xxx.xxx.xxx.xxx\n }\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"unicast_src_ip: 10.0.0.2", "unicast_peers:", "- 10.0.0.3", "- 10.0.0.4"},
		diag:     []string{"k.conf:4: warning: unicast_src_ip 10.0.0.2/24: keepalived reads it as the address 10.0.0.2 (inet_stosockaddr drops a /mask or -range)", "k.conf:6: warning: unicast_peer 10.0.0.3/24: keepalived reads it as the address 10.0.0.3", "k.conf:7: warning: unicast_peer 10.0.0.4-6: keepalived reads it as the address 10.0.0.4", "k.conf:8: warning: unicast_peer xxx.xxx.xxx.xxx: keepalived skips it (\"Configuration error: VRRP instance[VI_1] malformed unicast peer address[xxx.xxx.xxx.xxx]. Skipping...\")"},
		strict:   "k.conf:8: error: unicast_peer xxx.xxx.xxx.xxx",
		ka:       []string{"Line 8) Configuration error: VRRP instance[VI_1] malformed unicast peer address[xxx.xxx.xxx.xxx]. Skipping..."},
		kaIfaces: []string{"eth0"},
	},
	{
		name:  "virtual_server_group mixing IPv4 and IPv6 with TUN real servers of both families",
		conf:  "virtual_server_group G {\n 10.0.0.1 80\n 2001:db8::1 80\n}\nvirtual_server group G {\n protocol TCP\n lvs_method TUN\n real_server 10.0.1.1 80 {\n }\n real_server 2001:db8::10 80 {\n }\n}\n",
		want:  []string{"- address: 10.0.0.1", "- address: 2001:db8::1", "forwarding: tun", "- address: 10.0.1.1", "- address: 2001:db8::10"},
		kaNot: []string{"skipping", "removing"},
	},
	{
		name:   "a real server of another family without TUN: keepalived skips it",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n real_server 2001:db8::10 80 {\n }\n}\n",
		want:   []string{"- address: 10.0.1.1"},
		not:    []string{"- address: 2001:db8::10"},
		strict: "k.conf:5: error: real_server 2001:db8::10: keepalived skips it",
		diag:   []string{"k.conf:5: warning: real_server 2001:db8::10: keepalived skips it (\"Address family of virtual server and real server 2001:db8::10 don't match - skipping real server.\", rs_end_handler: the service is IPv4)"},
		ka:     []string{"Line 6) Address family of virtual server and real server 2001:db8::10 don't match - skipping real server."},
	},
	{
		name:   "a group's family is its first real server's: keepalived skips a later one of the other family",
		conf:   "virtual_server_group G6 {\n 2001:db8::1 80\n}\nvirtual_server group G6 {\n protocol TCP\n real_server 2001:db8::10 80 {\n }\n real_server 10.0.1.1 80 {\n }\n}\n",
		want:   []string{"- address: 2001:db8::10"},
		not:    []string{"- address: 10.0.1.1"},
		diag:   []string{"k.conf:8: warning: real_server 10.0.1.1: keepalived skips it (\"Address family of virtual server and real server 10.0.1.1 don't match - skipping real server.\", rs_end_handler: the service is IPv6)"},
		strict: "k.conf:8: error: real_server 10.0.1.1",
		ka:     []string{"Line 9) Address family of virtual server and real server 10.0.1.1 don't match - skipping real server."},
	},
	{
		name:   "a group's real server of another family, not tunnelled: the kernel refuses it",
		conf:   "virtual_server_group G6 {\n 2001:db8::1 80\n}\nvirtual_server group G6 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n real_server 2001:db8::10 80 {\n  lvs_method TUN\n }\n}\n",
		want:   []string{"- address: 2001:db8::10"},
		not:    []string{"- address: 10.0.1.1"},
		diag:   []string{"k.conf:6: warning: real_server 10.0.1.1 is not of group G6's family: keepalived accepts it, but the kernel refuses a real server of another family unless it is tunnelled (EINVAL, ip_vs_genl_set_cmd)"},
		strict: "k.conf:6: error: real_server 10.0.1.1",
		kaNot:  []string{"skipping"},
	},
	{
		name:     "a virtual address of the other family than the instance's is ignored",
		conf:     "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.100\n  2001:db8::100\n }\n}\n",
		want:     []string{"address: 10.0.0.100/32"},
		not:      []string{"2001:db8::100/128"},
		diag:     []string{"k.conf:6: warning: virtual_ipaddress 2001:db8::100 is not of the instance's family (fixed by 10.0.0.100 at ", "keepalived skips it (\"(VI_1): address family must match VRRP instance [2001:db8::100] - ignoring\")"},
		strict:   "k.conf:6: error: virtual_ipaddress 2001:db8::100",
		ka:       []string{"Line 6) (VI_1): address family must match VRRP instance [2001:db8::100] - ignoring"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:  "include _PWD: expanded before the include is read",
		conf:  "include ${_PWD}/conf.d/*.conf\n",
		files: map[string]string{"conf.d/vs.conf": "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n"},
		want:  []string{"address: 10.0.0.1", "- address: 10.0.1.1"},
		ka:    []string{"Virtual server [10.0.0.1]:tcp:80: no scheduler set"},
	},
	{
		name:  "an include that matches nothing with an unexpanded variable is an error",
		conf:  "include ${_CONF}/conf.d/*.conf\n",
		files: map[string]string{"conf.d/vs.conf": "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n"},
		err:   "k.conf:1: error: include ${_CONF}/conf.d/*.conf matches no file and holds a $ variable lbx did not expand",
	},
	{
		name:   "nb_get_retry outside HTTP_GET/SSL_GET is unknown: retry stays at keepalived's default",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  nb_get_retry 2\n  TCP_CHECK {\n   nb_get_retry 3\n  }\n  HTTP_GET {\n   url {\n    path /\n   }\n   nb_get_retry 4\n  }\n }\n}\n",
		want:   []string{"type: tcp", "retry: 1", "type: http_get", "retry: 4"},
		diag:   []string{"k.conf:4: warning: unknown keyword \"nb_get_retry\" here; keepalived ignores it, so does lbx; keepalived 2.2.7 reads nb_get_retry only inside HTTP_GET and SSL_GET", "k.conf:6: warning: unknown keyword \"nb_get_retry\" here", "k.conf:12: warning: \"nb_get_retry\" is a legacy form; converted as retry"},
		strict: "k.conf:6: error: unknown keyword \"nb_get_retry\"",
		ka:     []string{"Line 4) Unknown keyword 'nb_get_retry'", "Line 6) Unknown keyword 'nb_get_retry'", "Line 12) nb_get_retry is deprecated - please use 'retry'"},
	},
	{
		name:   "legacy and other keywords out of place are unknown to keepalived",
		conf:   "global_defs {\n lvs_sync_daemon_interface eth0\n enable_script_security\n script_user root\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n lb_kind DR\n real_server 10.0.1.1 80 {\n  lb_kind TUN\n  MISC_CHECK {\n   misc_path /bin/true\n   connect_timeout 3\n  }\n }\n}\n",
		want:   []string{"forwarding: dr", "address: 10.0.1.1", "type: misc"},
		not:    []string{"lvs_sync_daemon:", "forwarding: tun", "connect_timeout: 3s"},
		diag:   []string{"k.conf:2: warning: unknown keyword \"lvs_sync_daemon_interface\" here; keepalived ignores it, so does lbx; keepalived 2.2.7 reads lvs_sync_daemon_interface only inside a vrrp_instance", "k.conf:10: warning: unknown keyword \"lb_kind\" here; keepalived ignores it, so does lbx; keepalived 2.2.7 reads lb_kind in a virtual_server only", "k.conf:13: warning: unknown keyword \"connect_timeout\" here; keepalived ignores it, so does lbx; MISC_CHECK has no connect_timeout"},
		strict: "k.conf:10: error: unknown keyword \"lb_kind\"",
		ka:     []string{"Line 2) Unknown keyword 'lvs_sync_daemon_interface'", "Line 10) Unknown keyword 'lb_kind'", "Line 13) Unknown keyword 'connect_timeout'"},
	},
	{
		name:     "priority out of range runs as 100; preempt clears an earlier nopreempt",
		conf:     "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n priority 300\n nopreempt\n preempt\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"priority: 100"},
		not:      []string{"nopreempt: true"},
		diag:     []string{"k.conf:4: warning: priority 300: keepalived runs this instance with priority 100 (\"Priority not valid! must be between 1 & 255. Using default 100\", vrrp_prio_handler)", "k.conf:6: warning: preempt clears the nopreempt at "},
		strict:   "k.conf:4: error: priority 300",
		ka:       []string{"Line 4) (VI_1) Priority not valid! must be between 1 & 255. Using default 100"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "lvs_sync_daemon_interface repeated: the first wins",
		conf:     "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n lvs_sync_daemon_interface eth0\n lvs_sync_daemon_interface eth1\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"lvs_sync_daemon:", "interface: eth0", "vrrp_instance: VI_1"},
		not:      []string{"interface: eth1"},
		diag:     []string{"k.conf:5: warning: lvs_sync_daemon_interface given again: keepalived keeps the first, at ", "k.conf:4 (\"lvs_sync_daemon has already been specified ... - ignoring\"), so does lbx"},
		ka:       []string{"Line 5) (VI_1) lvs_sync_daemon_interface has already been specified as eth0 - ignoring"},
		kaIfaces: []string{"eth0", "eth1"},
	},
	{
		name:     "lvs_sync_daemon without an instance: keepalived runs master and backup, which the model cannot",
		conf:     "global_defs {\n lvs_sync_daemon eth0\n lvs_sync_daemon eth1 VI_1\n}\n",
		not:      []string{"lvs_sync_daemon:"},
		diag:     []string{"k.conf:2: warning: \"lvs_sync_daemon eth0\" is not expressible in the lbx model (without a VRRP instance keepalived runs both a master and a backup sync daemon on eth0 with sync id 0 (start_check)", "k.conf:3: warning: lvs_sync_daemon given again: keepalived keeps the first, at "},
		strict:   "k.conf:2: error: \"lvs_sync_daemon eth0\" is not expressible",
		ka:       []string{"Line 3) lvs_sync_daemon has already been specified as eth0  - ignoring"},
		kaIfaces: []string{"eth0", "eth1"},
	},
	{
		name: "SSL_GET enable_sni sends the url's virtualhost",
		conf: "virtual_server 10.0.0.1 443 {\n protocol TCP\n virtualhost vs.example.org\n real_server 10.0.1.1 443 {\n  SSL_GET {\n   enable_sni\n   url {\n    path /\n    virtualhost www.example.org\n   }\n  }\n }\n}\n",
		want: []string{"virtualhost: www.example.org", "sni: www.example.org"},
	},
	{
		name: "SSL_GET enable_sni falls back to the virtual server's virtualhost, not the real server's",
		conf: "virtual_server 10.0.0.1 443 {\n protocol TCP\n virtualhost vs.example.org\n real_server 10.0.1.1 443 {\n  virtualhost rs.example.org\n  SSL_GET {\n   enable_sni\n   url {\n    path /\n   }\n  }\n }\n}\n",
		want: []string{"virtualhost: rs.example.org", "sni: vs.example.org"},
	},
	{
		name:     "preempt_delay with state MASTER is cleared",
		conf:     "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 7\n priority 150\n preempt_delay 10\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"state: MASTER", "priority: 150"},
		not:      []string{"preempt_delay: 10s"},
		diag:     []string{"k.conf:6: warning: preempt_delay does not work with state MASTER: keepalived clears it (\"preempt delay will not work with initial state MASTER - clearing\")"},
		ka:       []string{"(VI_1) Warning - preempt delay will not work with initial state MASTER - clearing"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "state MASTER without priority runs with priority 255",
		conf:     "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 7\n nopreempt\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"state: MASTER", "priority: 255"},
		not:      []string{"nopreempt: true"},
		diag:     []string{"k.conf:2: warning: state MASTER without priority: keepalived runs the instance with priority 255", "k.conf:5: warning: nopreempt with priority 255: keepalived clears it"},
		ka:       []string{"(VI_1) nopreempt is incompatible with priority 255. resetting nopreempt"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "U+00A0 is part of a word: the setting is an unknown keyword",
		conf:     "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n\u00a0\u00a0priority 150\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"priority: 100"},
		not:      []string{"priority: 150"},
		diag:     []string{"k.conf:4: warning: line holds U+00A0 (no-break space), which keepalived reads as part of a word", "k.conf:4: warning: unknown keyword \"\\u00a0\\u00a0priority\" here; keepalived ignores it, so does lbx — the word holds Unicode white space (such as U+00A0, no-break space), which keepalived does not read as space: probably `priority` was meant"},
		strict:   "k.conf:4: error: unknown keyword",
		ka:       []string{"Line 4) Unknown keyword '\u00a0\u00a0priority'"},
		kaIfaces: []string{"eth0"},
	},
	{
		name: "MISC_CHECK without misc_timeout times out after the virtual server's delay_loop",
		conf: scriptSecurity + "virtual_server 10.0.0.1 80 {\n protocol TCP\n delay_loop 20\n real_server 10.0.1.1 80 {\n  MISC_CHECK {\n   misc_path /bin/true\n   delay_loop 5\n  }\n }\n}\n",
		want: []string{"type: misc", "delay_loop: 5s", "path: /bin/true", "timeout: 20s"},
	},
	{
		name:   "a MISC_CHECK without misc_path is dropped, as keepalived",
		conf:   scriptSecurity + "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  MISC_CHECK {\n  }\n  TCP_CHECK {\n  }\n }\n}\n",
		want:   []string{"type: tcp"},
		not:    []string{"type: misc"},
		diag:   []string{"k.conf:8: warning: MISC_CHECK: keepalived drops this checker (\"No script path has been specified for MISC_CHECKER - skipping\", misc_end_handler), so does lbx: the real server is not checked by it"},
		strict: "k.conf:8: error: MISC_CHECK: keepalived drops this checker",
		ka:     []string{"Line 9) No script path has been specified for MISC_CHECKER - skipping"},
	},
	{
		name:      "an SSL_GET without a url with a path is refused: keepalived 2.2.7 crashes on it",
		conf:      "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  SSL_GET {\n   url {\n    status_code 200\n   }\n  }\n }\n}\n",
		err:       "k.conf:4: error: SSL_GET has no url with a path: keepalived 2.2.7 reports \"HTTP/SSL_GET checker has no urls specified - ignoring\" and then crashes",
		ka:        []string{"Line 7) HTTP/SSL_GET checker url has no path - ignoring", "Line 8) HTTP/SSL_GET checker has no urls specified - ignoring"},
		kaRefuses: true,
	},
	{
		name:   "an unknown keyword with a block opens none: keepalived reads its contents one level up",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  TCP_CHEKC {\n   connect_port 80\n  }\n  weight 2\n }\n}\n",
		want:   []string{"address: 10.0.1.1", "weight: 2"},
		not:    []string{"type: tcp"},
		diag:   []string{"k.conf:4: warning: \"TCP_CHEKC\" opens no block in real_server: keepalived reports \"Unexpected '{' - ignoring\", reads the lines inside as settings of real_server, and their '}' closes real_server", "k.conf:4: warning: unknown keyword \"TCP_CHEKC\" here", "k.conf:5: warning: unknown keyword \"connect_port\" here", "k.conf:9: warning: this '}' is left at the top level"},
		strict: "k.conf:4: error: \"TCP_CHEKC\" opens no block",
		ka:     []string{"Line 4) Unknown keyword 'TCP_CHEKC'", "Line 4) Unexpected '{' - ignoring", "Line 5) Unknown keyword 'connect_port'", "Line 9) Unknown keyword '}'"},
	},
	{
		name:   "unknown scheduler runs as wlc, lower-case dr as NAT",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo RR\n lb_kind dr\n real_server 10.0.1.1 8080 {\n }\n}\n",
		want:   []string{"scheduler: wlc", "forwarding: nat", "- address: 10.0.1.1", "port: 8080"},
		diag:   []string{"k.conf:3: warning: lb_algo RR: keepalived ignores an unknown scheduler (\"Invalid lvs_scheduler 'RR' - ignoring\", lbalgo_handler) and has been running this service with wlc, so does lbx; scheduler names are lower case: write rr if that was meant", "k.conf:4: warning: lb_kind dr: keepalived ignores an unknown method (\"PARSER : unknown [dr] routing method for virtual server.\", svr_forwarding_handler) and forwards this service with NAT, so does lbx; keepalived has been running this service as NAT, not DR — write DR (upper case) to have DR"},
		strict: "k.conf:4: error: lb_kind dr",
		ka:     []string{"Line 3) Invalid lvs_scheduler 'RR' - ignoring", "Line 4) PARSER : unknown [dr] routing method for virtual server."},
	},
	{
		name:     "a vrrp_script without script is removed, and the track_script naming it ignored",
		conf:     "vrrp_script chk {\n interval 2\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n track_script {\n  chk\n }\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"name: VI_1"},
		not:      []string{"track_scripts:", "scripts:"},
		diag:     []string{"k.conf:1: warning: vrrp_script chk has no script: keepalived removes it (\"No script set for vrrp_script chk - removing\"", "k.conf:8: warning: track_script chk: no vrrp_script of that name; keepalived ignores it"},
		strict:   "k.conf:1: error: vrrp_script chk has no script",
		ka:       []string{"No script set for vrrp_script chk - removing", "(VI_1) track script chk not found, ignoring..."},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "promote_secondaries is the instance's promote_secondaries",
		conf:     "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n promote_secondaries\n virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n",
		want:     []string{"name: VI_1", "promote_secondaries: true"},
		kaIfaces: []string{"eth0"},
		kaNot:    []string{"promote_secondaries"},
	},
	{
		name:   "TUN with tunnel options keepalived refuses is TUN with the tunnel it had",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_method TUN type gue port 6080\n real_server 10.0.1.1 80 {\n  lvs_method TUN type fou\n }\n real_server 10.0.1.2 80 {\n  lvs_method TUN csum\n }\n}\n",
		want:   []string{"forwarding: tun", "address: 10.0.1.1", "type: gue", "port: 6080", "address: 10.0.1.2", "type: gue"},
		diag:   []string{"k.conf:5: warning: lvs_method TUN type fou: keepalived forwards with TUN but ignores the tunnel options (\"Unknown tunnel type fou for real server.\", svr_forwarding_handler) and keeps the tunnel it had", "k.conf:8: warning: lvs_method TUN csum: keepalived forwards with TUN but ignores the tunnel options (\"ipip tunnels do not support checksum option.\""},
		strict: "k.conf:5: error: lvs_method TUN type fou",
		ka:     []string{"Line 5) Unknown tunnel type fou for real server.", "Line 8) ipip tunnels do not support checksum option."},
	},
	{
		name:     "virtual addresses keepalived corrects: an invalid one skipped, a bad prefix length full, an unknown option or an IPv6 label ignored",
		conf:     "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  192.168.100./24 dev eth0\n  10.0.0.100/40\n  10.0.0.101/24 dev eth0 color red\n }\n virtual_ipaddress_excluded {\n  2001:db8::1/64 label eth0:1\n }\n}\n",
		want:     []string{"address: 10.0.0.100/32", "address: 10.0.0.101/24", "address: 2001:db8::1/64"},
		not:      []string{"address: 192.168.100", "label: eth0:1"},
		diag:     []string{"k.conf:5: warning: address 192.168.100./24: keepalived skips it (\"VRRP parsed invalid IP 192.168.100./24. skipping IP...\"", "k.conf:6: warning: address 10.0.0.100/40: keepalived uses the prefix length 32", "k.conf:7: warning: address 10.0.0.101/24: keepalived ignores \"color\"", "k.conf:10: warning: address 2001:db8::1/64: keepalived ignores label for an IPv6 address"},
		strict:   "k.conf:5: error: address 192.168.100./24",
		ka:       []string{"Line 5) VRRP parsed invalid IP 192.168.100./24. skipping IP...", "Line 6) Invalid address prefix len 40 for address 10.0.0.100/40 - using 32", "Line 7) Unknown configuration entry 'color' for ip address - ignoring", "Line 10) Cannot specify label for IPv6 addresses (2001:db8::1/64) - ignoring label"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:   "servers keepalived cannot read are skipped; a /mask after a server's address is dropped",
		conf:   "virtual_server 10.0.0.1 70000 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\nvirtual_server 10.0.0.2/32 80 {\n protocol TCP\n real_server 10.0.1.x 80 {\n }\n real_server 10.0.1.2 65536 {\n }\n real_server 10.0.1.3 080 {\n }\n}\n",
		want:   []string{"address: 10.0.0.2", "port: 80", "address: 10.0.1.3", "port: 80"},
		not:    []string{"address: 10.0.0.1", "address: 10.0.1.2"},
		diag:   []string{"k.conf:1: warning: virtual_server 10.0.0.1 70000: keepalived skips this virtual server (\"Invalid virtual server IP address/port 10.0.0.1/70000 - skipping\", alloc_vs)", "k.conf:6: warning: virtual_server 10.0.0.2/32: keepalived reads the address as 10.0.0.2", "k.conf:8: warning: real_server 10.0.1.x 80: keepalived skips this real server (\"Invalid real server ip address/port 10.0.1.x/80 - skipping\", alloc_rs)", "k.conf:10: warning: real_server 10.0.1.2 65536: keepalived skips this real server"},
		strict: "k.conf:1: error: virtual_server 10.0.0.1 70000",
		ka:     []string{"Line 1) Invalid virtual server IP address/port 10.0.0.1/70000 - skipping", "Line 8) Invalid real server ip address/port 10.0.1.x/80 - skipping", "Line 10) Invalid real server ip address/port 10.0.1.2/65536 - skipping"},
	},
	{
		name:     "state SLAVE runs as BACKUP",
		conf:     "vrrp_instance VI_1 {\n state SLAVE\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
		want:     []string{"state: BACKUP", "priority: 100"},
		diag:     []string{"k.conf:2: warning: state SLAVE: keepalived runs this instance as BACKUP (\"unknown state 'SLAVE', defaulting to BACKUP\", vrrp_state_handler), so does lbx"},
		strict:   "k.conf:2: error: state SLAVE",
		ka:       []string{"Line 2) (VI_1) unknown state 'SLAVE', defaulting to BACKUP"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:   "quorum 0 runs as 1",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n quorum 0\n real_server 10.0.1.1 80 {\n }\n}\n",
		want:   []string{"quorum:", "min: 1"},
		diag:   []string{"k.conf:3: warning: quorum 0: keepalived runs this service with quorum 1 (\"Quorum 0 must be in [1, 4294967295]. Setting to 1.\", quorum_handler)"},
		strict: "k.conf:3: error: quorum 0",
		ka:     []string{"Line 3) Quorum 0 must be in [1, 4294967295]. Setting to 1."},
	},
	{
		name:   "words after a virtual server's port are ignored: no protocol is UDP",
		conf:   "virtual_server 10.0.0.1 80 TCP {\n real_server 10.0.1.1 80 {\n }\n}\n",
		want:   []string{"protocol: udp"},
		diag:   []string{"k.conf:1: warning: virtual_server: keepalived reads 2 word(s) after virtual_server and ignores \"TCP\" (alloc_vs reads the address and port, `fwmark N` or `group NAME`), so does lbx; if TCP was meant as the protocol, write `protocol TCP` inside the block"},
		strict: "k.conf:1: error: virtual_server: keepalived reads 2 word(s)",
		ka:     []string{"no protocol set - defaulting to UDP"},
	},
	{
		name:   "a stray '}' is ignored",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n}\n",
		want:   []string{"address: 10.0.0.1"},
		diag:   []string{"k.conf:6: warning: extra '}': keepalived reports \"Extra '}' found\" and ignores it, so does lbx; probably a '}' above closes a block too soon: virtual_server opened at "},
		strict: "k.conf:6: error: extra '}'",
		ka:     []string{"Line 6) Extra '}' found"},
	},
	{
		name:   "a block left open at the end of the file is closed there",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n",
		want:   []string{"address: 10.0.0.1", "- address: 10.0.1.1"},
		diag:   []string{"k.conf:1: warning: block \"virtual_server\" opened here is never closed with '}': keepalived reports \"There are 1 missing '}'s or extra '{'s\" and runs with it closed at the end of the configuration"},
		strict: "k.conf:1: error: block \"virtual_server\"",
		ka:     []string{"There are 1 missing '}'s or extra '{'s"},
	},
	{
		name:  "a definition expanding to ${_HASH} makes the line a comment",
		conf:  "$OFF=${_HASH}\n$ON=\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n $ON lb_algo sh\n $OFF lb_algo rr\n real_server 10.0.1.1 80 {\n }\n}\n",
		want:  []string{"scheduler: sh"},
		kaNot: []string{"Unknown keyword"},
	},
	{
		// The model compiles it with port 0 (model.EntryKey); its checks
		// connect to 80, as keepalived's.
		name: "fwmark entries of a group: DR real servers keep their port for checks",
		conf: "virtual_server_group G {\n fwmark 5\n}\nvirtual_server group G {\n lvs_method DR\n real_server 10.0.1.1 80 {\n }\n}\n",
		want: []string{"fwmark: 5", "forwarding: dr", "- address: 10.0.1.1\n        port: 80\n        weight: 1"},
		diag: []string{"k.conf:6: warning: real server 10.0.1.1 has port 80; with DR forwarding keepalived programs it with the port of each entry of group G (0 for a fwmark entry: ipvs_group_cmd), so does lbx; its checks connect to port 80"},
	},
	{
		name: "entries of a group with other ports: a TUN real server converts",
		conf: "virtual_server_group G {\n 10.0.0.1 80\n 10.0.0.1 443\n}\nvirtual_server group G {\n lvs_method TUN\n real_server 10.0.1.1 {\n }\n}\n",
		want: []string{"port: 443", "forwarding: tun", "- address: 10.0.1.1\n        weight: 1"},
		diag: []string{"k.conf:7: warning: real server 10.0.1.1 has no port; with TUN forwarding keepalived programs it with the port of each entry of group G (0 for a fwmark entry: ipvs_group_cmd), so does lbx; its checks connect to port 0"},
	},
	{
		name: "entries of a group agreeing on a port: a DR real server without one takes it",
		conf: "virtual_server_group G {\n 10.0.0.1 80\n 10.0.0.2 80\n}\nvirtual_server group G {\n lvs_method DR\n real_server 10.0.1.1 {\n }\n}\n",
		want: []string{"forwarding: dr", "- address: 10.0.1.1\n        port: 80\n        weight: 1"},
	},
	{
		name:     "authentication AH: keepalived runs it, lbx watch does not; left out, reported",
		conf:     "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n priority 100\n authentication {\n  auth_type AH\n  auth_pass secret\n }\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
		want:     []string{"virtual_router_id: 1"},
		not:      []string{"authentication:\n", "type: AH"},
		diag:     []string{"k.conf:5: warning: \"authentication { ... }\" is not expressible in the lbx model (keepalived runs this VRRPv2 instance with IPsec AH authentication; lbx has no AH"},
		strict:   "k.conf:5: error: \"authentication { ... }\" is not expressible",
		kaNot:    []string{"auth"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "authentication AH with VRRPv3: keepalived ignores it, no AH report",
		conf:     "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n version 3\n authentication {\n  auth_type AH\n }\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
		not:      []string{"authentication:\n", "not converted"},
		diag:     []string{"k.conf:5: warning: VRRPv3 has no authentication; keepalived ignores it, so does lbx"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "authentication PASS is kept",
		conf:     "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n authentication {\n  auth_type PASS\n  auth_pass secret\n }\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
		want:     []string{"authentication:", "type: PASS", "pass: secret"},
		kaIfaces: []string{"eth0"},
	},
	{
		name: "FILE_CHECK on a track_file of weight 0: lbx's file check",
		conf: "track_file TF {\n file /run/lbx-none.trk\n weight 0\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  FILE_CHECK {\n   track_file TF\n  }\n }\n}\n",
		want: []string{"type: file", "file: /run/lbx-none.trk"},
		not:  []string{"not converted", "keepalived adds"},
	},
	{
		name:   "FILE_CHECK on a track_file of the default weight 1: converted, the difference reported",
		conf:   "track_file TF {\n file /run/lbx-none.trk\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  FILE_CHECK {\n   track_file TF\n  }\n }\n}\n",
		want:   []string{"type: file"},
		diag:   []string{"k.conf:8: warning: FILE_CHECK on track_file TF with weight 1: keepalived adds the file's value times the weight"},
		strict: "k.conf:8: error: FILE_CHECK on track_file TF with weight 1",
	},
	{
		name:   "FILE_CHECK on a track_file of weight -10 reverse",
		conf:   "track_file TF {\n file /run/lbx-none.trk\n weight -10 reverse\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  FILE_CHECK {\n   track_file TF\n  }\n }\n}\n",
		diag:   []string{"k.conf:3: warning: FILE_CHECK on track_file TF with weight -10 reverse:"},
		strict: "k.conf:3: error: FILE_CHECK on track_file TF",
	},
	{
		name: "FILE_CHECK's own weight 0 overrides the track_file's",
		conf: "track_file TF {\n file /run/lbx-none.trk\n weight 5\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  FILE_CHECK {\n   track_file TF\n   weight 0\n  }\n }\n}\n",
		want: []string{"type: file"},
		not:  []string{"keepalived adds the file's value"},
	},
	{
		name:   "FILE_CHECK's unreadable weight is ignored: the track_file's 5 counts",
		conf:   "track_file TF {\n file /run/lbx-none.trk\n weight 5\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  FILE_CHECK {\n   track_file TF\n   weight x\n  }\n }\n}\n",
		diag:   []string{"warning: FILE_CHECK weight \"x\": keepalived ignores the line", "k.conf:3: warning: FILE_CHECK on track_file TF with weight 5:"},
		strict: "error: FILE_CHECK weight \"x\"",
		ka:     []string{"weight"},
	},
	{
		name:   "track_file init_file: keepalived writes the file at start, lbx does not",
		conf:   "track_file TF {\n file /run/lbx-none.trk\n weight 0\n init_file 3\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  FILE_CHECK {\n   track_file TF\n  }\n }\n}\n",
		want:   []string{"type: file"},
		diag:   []string{"k.conf:4: warning: track_file TF: keepalived writes its init_file value to /run/lbx-none.trk when it starts"},
		strict: "k.conf:4: error: track_file TF: keepalived writes",
	},
	{
		name:     "a virtual route in two instances: the first owns it, reported",
		conf:     "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1/24\n }\n virtual_routes {\n  10.9.0.0/16 via 10.0.0.254\n  2001:db8:9::/48 dev eth0 metric 256\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  10.0.0.2/24\n }\n virtual_routes {\n  10.9.0.0/16 via 10.0.0.254\n  2001:db8:9::/48 dev eth0 metric 256\n  10.8.0.0/16 via 10.0.0.254\n }\n}\n",
		want:     []string{"name: A", "to: 10.9.0.0/16", "to: 2001:db8:9::/48", "name: B", "to: 10.8.0.0/16"},
		diag:     []string{"k.conf:19: warning: virtual route 10.9.0.0/16 is also a virtual route of A (", "k.conf:8): keepalived adds it whenever either instance becomes MASTER", "k.conf:20: warning: virtual route 2001:db8:9::/48@metric=256 is also a virtual route of A (", "k.conf:9): keepalived adds"},
		strict:   "k.conf:19: error: virtual route 10.9.0.0/16 is also a virtual route of A",
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "a virtual route twice in one instance: the first is kept",
		conf:     "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1/24\n }\n virtual_routes {\n  10.9.0.0/16 via 10.0.0.254\n  10.9.0.0/16 via 10.0.0.253\n }\n}\n",
		want:     []string{"via: 10.0.0.254"},
		not:      []string{"10.0.0.253"},
		diag:     []string{"k.conf:9: warning: virtual route 10.9.0.0/16 is already listed at ", "k.conf:8; keepalived's second add fails"},
		strict:   "k.conf:9: error: virtual route 10.9.0.0/16 is already listed",
		kaIfaces: []string{"eth0"},
	},
	{
		name: "a group's fwmark entries take the virtual server's family: IPv6 from its real servers",
		conf: "virtual_server_group G4 {\n 10.0.0.1 80\n fwmark 10\n}\nvirtual_server_group G6 {\n 2001:db8::1 80\n fwmark 10\n}\nvirtual_server group G4 {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\nvirtual_server group G6 {\n protocol TCP\n real_server 2001:db8:1::1 80 {\n }\n}\n",
		want: []string{"group: G4", "family: 6", "group: G6", "address: 2001:db8:1::1"},
		diag: []string{"k.conf:14: warning: the fwmark entries of group G6 are IPv6 services: keepalived takes the virtual server's family from its first real server that is not tunnelled (rs_end_handler)"},
	},
	{
		name: "a group of fwmark entries only, with an IPv6 sorry server and TUN real servers: IPv6",
		conf: "virtual_server_group G {\n fwmark 10\n}\nvirtual_server group G {\n lvs_method TUN\n sorry_server 2001:db8::9 80\n sorry_server_lvs_method DR\n real_server 10.0.1.1 80 {\n }\n}\n",
		want: []string{"family: 6"},
		diag: []string{"k.conf:4: warning: the fwmark entries of group G are IPv6 services: keepalived takes the virtual server's family from its sorry server (vs_end_handler)"},
	},
	{
		name: "ip_family inet6 on a group: its fwmark entries are IPv6, no report",
		conf: "virtual_server_group G {\n fwmark 10\n}\nvirtual_server group G {\n ip_family inet6\n lvs_method TUN\n real_server 10.0.1.1 80 {\n }\n}\n",
		want: []string{"family: 6"},
		not:  []string{"not converted"},
	},
	{
		name:     "a VRRPv2 IPv4 instance whose every virtual address another instance owns runs without (1102.conf)",
		conf:     "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
		want:     []string{"name: A", "10.0.0.9/24", "name: B", "virtual_router_id: 2"},
		diag:     []string{"k.conf:8: warning: vrrp_instance B: every virtual address it lists is also A's, which owns it in the lbx model, so lbx runs it without virtual addresses", "a keepalived peer still running this file drops them (\"received an unexpected ip number count 0\")"},
		strict:   "k.conf:8: error: vrrp_instance B: every virtual address it lists is also A's",
		kaNot:    []string{"No VIP specified"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "a VRRPv3 instance whose every virtual address another instance owns: refused, it cannot run without one",
		conf:     "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n version 3\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n version 3\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
		err:      "k.conf:9: error: vrrp_instance B: every virtual address it lists is also A's, which owns it in the lbx model, so it is left with none; a VRRPv3, IPv6 or strict instance cannot run without one",
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "a VRRPv2 IPv4 instance without virtual_ipaddress runs so in keepalived, and in lbx",
		conf:     "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n",
		want:     []string{"name: A", "virtual_router_id: 1", "version: 2"},
		not:      []string{"virtual_addresses"},
		diag:     []string{"k.conf:1: warning: vrrp_instance A has no virtual_ipaddress: keepalived runs it without (\"No VIP specified; at least one is sensible\")"},
		ka:       []string{"(A) No VIP specified; at least one is sensible"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "a vrrp_instance defined twice: keepalived skips the second block (1715.conf)",
		conf:     "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 150\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 2\n priority 50\n virtual_ipaddress {\n  10.0.0.10/24\n }\n}\n",
		want:     []string{"name: A", "virtual_router_id: 1", "priority: 150", "10.0.0.9/24"},
		not:      []string{"virtual_router_id: 2", "priority: 50", "10.0.0.10"},
		diag:     []string{"k.conf:9: warning: vrrp_instance A is defined again (first at ", "k.conf:1): keepalived skips this block (\"vrrp instance A already defined\") and runs the first, so does lbx"},
		strict:   "k.conf:9: error: vrrp_instance A is defined again",
		ka:       []string{"Line 9) vrrp instance A already defined"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:     "a vrrp_script defined twice: tracking uses the first (1715.conf)",
		conf:     scriptSecurity + "vrrp_script chk {\n script /bin/true\n weight 10\n}\nvrrp_script chk {\n script /bin/false\n weight 20\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n track_script {\n  chk\n }\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
		want:     []string{"chk:", "script: /bin/true", "weight: 10"},
		not:      []string{"/bin/false", "weight: 20"},
		diag:     []string{"k.conf:9: warning: vrrp_script chk is defined again (first at ", "k.conf:5): keepalived keeps both, but track_script finds the first (find_script_by_name) and drops this one as unused (\"Warning - script chk is not used\")"},
		strict:   "k.conf:9: error: vrrp_script chk is defined again",
		kaIfaces: []string{"eth0"}, // TestKeepalivedRuns: -t does not say it
	},
	{
		name:   "a persistence_timeout out of keepalived's range is ignored (955p.conf)",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n persistence_timeout 123134134\n real_server 10.0.1.1 80 {\n }\n}\nvirtual_server 10.0.0.2 80 {\n protocol TCP\n persistence_timeout 2678400\n real_server 10.0.1.1 80 {\n }\n}\nvirtual_server 10.0.0.3 80 {\n protocol TCP\n persistence_timeout 5m\n real_server 10.0.1.1 80 {\n }\n}\n",
		want:   []string{"address: 10.0.0.1", "address: 10.0.0.2", "persistence:\n      timeout: 744h\n", "address: 10.0.0.3"},
		not:    []string{"timeout: 34203h"},
		diag:   []string{"k.conf:3: warning: persistence_timeout 123134134: keepalived ignores it (\"persistence_timeout invalid\": it takes 1 to 2678400 seconds, 31 days)", "k.conf:15: warning: persistence_timeout 5m: keepalived ignores it"},
		strict: "k.conf:3: error: persistence_timeout 123134134",
		ka:     []string{"Line 3) number '123134134' outside range [1, 2678400]", "Line 3) persistence_timeout invalid", "Line 15) persistence_timeout invalid"},
		kaNot:  []string{"Line 9) persistence_timeout invalid"},
	},
	{
		name: "a fwmark service's DR real server port is cleared, its TCP_CHECK keeps it (955p.conf)",
		conf: "virtual_server fwmark 15 {\n lb_kind DR\n real_server 10.0.1.1 24 {\n  TCP_CHECK {\n   connect_timeout 2\n  }\n }\n}\n",
		want: []string{"fwmark: 15", "- address: 10.0.1.1", "type: tcp", "connect_port: 24"},
		not:  []string{"port: 24\n        weight"},
		diag: []string{"k.conf:3: warning: real server 10.0.1.1 of fwmark service with DR forwarding has port 24; keepalived clears it (\"has port specified - clearing\"), so does lbx; its checks still connect to port 24 (queue_checker copied the address before the clearing), so do lbx's (connect_port 24)"},
		ka:   []string{"real server [10.0.1.1]:none:24 has port specified - clearing"},
	},
	{
		name:   "a group's fwmark entries with their own family (1540fwm.conf)",
		conf:   "virtual_server_group G {\n 10.0.0.1 53\n 2001:db8::1 53\n fwmark 22 inet\n fwmark 36 inet6\n fwmark 37 ipx\n}\nvirtual_server group G {\n protocol TCP\n lvs_method TUN\n real_server 2001:db8:1::20 {\n }\n real_server 10.0.1.26 {\n }\n}\n",
		want:   []string{"- fwmark: 22\n        family: 4", "- fwmark: 36\n        family: 6"},
		not:    []string{"fwmark: 37"},
		diag:   []string{"k.conf:6: warning: fwmark 37 ipx: keepalived drops the entry (\"(G): fwmark '37' family ipx unknown - ignoring\""},
		strict: "k.conf:6: error: fwmark 37 ipx",
		ka:     []string{"fwmark '37' family ipx unknown - ignoring"},
	},
	{
		name:   "one-line url block: keepalived keeps the path, drops the status code",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url { path /x status_code 404 }\n  }\n }\n}\n",
		want:   []string{"path: /x", "- 200-299"},
		not:    []string{"404\n"},
		diag:   []string{"k.conf:5: warning: path: keepalived reads 1 word(s) after path and ignores \"status_code 404\" (path_handler keeps one word), so does lbx; `status_code 404` looks like a setting of its own: put it on a line of its own"},
		strict: "k.conf:5: error: path: keepalived reads 1 word(s)",
	},
	{
		name:   "a quoted time with leading spaces: keepalived reads the number",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n warmup \"  64\"\n real_server 10.0.1.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n",
		want:   []string{"warmup: 1m4s"},
		diag:   []string{"k.conf:3: warning: warmup \"  64\": keepalived reads the number after the leading spaces (read_timer: strtoull skips them) and runs with warmup 64"},
		strict: "k.conf:3: error: warmup \"  64\"",
		kaNot:  []string{"warmup"},
	},
	{
		name:     "an address in two instances: keepalived runs both lists, lbx gives it to the first",
		conf:     "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n  10.0.0.2\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  10.0.0.1\n  10.0.0.3\n }\n}\n",
		want:     []string{"name: A", "10.0.0.1", "10.0.0.2", "name: B", "10.0.0.3"},
		diag:     []string{"k.conf:13: warning: address 10.0.0.1 on eth0 is also a virtual address of A (", "k.conf:5): keepalived adds it whenever either instance becomes MASTER and deletes it whenever either leaves MASTER"},
		strict:   "k.conf:13: error: address 10.0.0.1 on eth0 is also a virtual address of A",
		kaNot:    []string{"10.0.0.1"},
		kaIfaces: []string{"eth0"},
	},
	{
		name:   "a virtual server declared twice: the first's settings, the real servers of both",
		conf:   "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n real_server 10.0.1.1 80 {\n  weight 2\n }\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched wlc\n real_server 10.0.1.1 80 {\n  weight 5\n }\n real_server 10.0.1.2 80 {\n }\n}\n",
		want:   []string{"scheduler: rr", "address: 10.0.1.1", "weight: 2", "address: 10.0.1.2"},
		not:    []string{"wlc", "weight: 5"},
		diag:   []string{"k.conf:8: warning: ", "declares again the services of the virtual server at ", "k.conf:1: keepalived programs them with the first declaration's settings", "1 real server(s) added, 1 already there keep the first's settings"},
		strict: "k.conf:8: error: ",
		kaNot:  []string{"skipping", "removing"},
	},
	{
		name:   "a virtual_server_group defined twice: virtual servers use the first",
		conf:   "virtual_server_group G {\n 10.0.0.1 80\n}\nvirtual_server_group G {\n 10.0.0.2 80\n}\nvirtual_server group G {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n",
		want:   []string{"address: 10.0.0.1"},
		not:    []string{"10.0.0.2"},
		diag:   []string{"k.conf:4: warning: virtual_server_group G is defined again (first at ", "k.conf:1): keepalived keeps both, but every \"virtual_server group G\" uses the first (ipvs_get_group_by_name)"},
		strict: "k.conf:4: error: virtual_server_group G is defined again",
		kaNot:  []string{"skipping", "removing"},
	},
}

// writeCase writes the case's files into a fresh directory and returns
// the path of k.conf.
func writeCase(t *testing.T, tc fidelityCase) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"k.conf": tc.conf}
	for name, text := range tc.files {
		files[name] = text
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "k.conf")
}

// TestFidelity converts each defect class to what keepalived runs with.
func TestFidelity(t *testing.T) {
	for _, tc := range fidelityCases {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeCase(t, tc)
			res, err := File(conf, Options{Parse: keepalived.Options{ConfigID: "host"}})
			if tc.err != "" {
				if err == nil || !strings.Contains(diagText(res), tc.err) {
					t.Fatalf("want refusal with %q, got %v:\n%s", tc.err, err, diagText(res))
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, diagText(res))
			}
			out, err := res.YAML(conf)
			if err != nil {
				t.Fatal(err)
			}
			m, err := model.Parse(out, "out.yaml")
			if err != nil {
				t.Fatalf("converted model does not validate: %v\n%s", err, out)
			}
			// lbx watch's preflight of the VRRP instances (AH refused).
			if _, err := vrrpmodel.FromModel(m); err != nil {
				t.Fatalf("lbx watch refuses the converted model: %v\n%s", err, out)
			}
			checkOutput(t, string(out), diagText(res), tc)
			checkStrict(t, conf, tc)
		})
	}
}

func checkOutput(t *testing.T, yaml, diags string, tc fidelityCase) {
	t.Helper()
	rest := yaml
	for _, w := range tc.want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("output lacks %q (in order):\n%s", w, yaml)
			return
		}
		rest = rest[i+len(w):]
	}
	for _, n := range tc.not {
		if strings.Contains(yaml, n) {
			t.Errorf("output has %q:\n%s", n, yaml)
		}
	}
	for _, d := range tc.diag {
		if !strings.Contains(diags, d) {
			t.Errorf("diagnostics lack %q:\n%s", d, diags)
		}
	}
}

// checkStrict: --strict refuses exactly the cases with a correction or
// something the model cannot express, naming it as an error.
func checkStrict(t *testing.T, conf string, tc fidelityCase) {
	t.Helper()
	res, err := File(conf, Options{Strict: true, Parse: keepalived.Options{ConfigID: "host"}})
	if tc.strict == "" {
		if err != nil {
			t.Errorf("--strict refuses: %v\n%s", err, diagText(res))
		}
		return
	}
	var ce *ConversionError
	if !errors.As(err, &ce) || !strings.Contains(diagText(res), tc.strict) {
		t.Errorf("--strict: want an error %q, got %v:\n%s", tc.strict, err, diagText(res))
	}
}

// TestFidelityKeepalived runs keepalived 2.2.7's own config test on each
// case, in a network namespace with the interfaces the file names: it
// must accept the file (exit 0, or 5 for reported corrections; 4 is a
// file it refuses) and report what the case says it reports.
func TestFidelityKeepalived(t *testing.T) {
	nstest.Require(t, "keepalived")
	for _, tc := range fidelityCases {
		if tc.err != "" && len(tc.ka) == 0 {
			continue // nothing keepalived says shows the reason
		}
		t.Run(tc.name, func(t *testing.T) {
			conf := writeCase(t, tc)
			ns := nstest.New(t, nstest.Unique("kf"))
			for _, ifc := range tc.kaIfaces {
				ns.Link(t, ifc)
			}
			cmd := ns.Cmd("keepalived", "-t", "-f", conf)
			cmd.Dir = filepath.Dir(conf)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			runs := err == nil || errors.As(err, &ee) && ee.ExitCode() == 5
			if runs == tc.kaRefuses {
				t.Fatalf("keepalived -t: %v (want it to %s the file):\n%s", err, map[bool]string{true: "refuse", false: "accept"}[tc.kaRefuses], out)
			}
			for _, want := range tc.ka {
				if !strings.Contains(string(out), want) {
					t.Errorf("keepalived -t does not report %q:\n%s", want, out)
				}
			}
			for _, not := range tc.kaNot {
				if strings.Contains(string(out), not) {
					t.Errorf("keepalived -t reports %q:\n%s", not, out)
				}
			}
		})
	}
}

// TestMigrationWorkedExample: docs/migration.md's worked example shows the
// warnings lbx convert prints for its keepalived.conf, exactly.
func TestMigrationWorkedExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/migration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, ex, ok := strings.Cut(string(doc), "## Worked example")
	blocks := strings.Split(ex, "```")
	if !ok || len(blocks) < 4 {
		t.Fatal("docs/migration.md has no worked example with a configuration and lbx convert's output")
	}
	conf := strings.TrimPrefix(blocks[1], "\n")
	var shown []string
	for _, l := range strings.Split(strings.TrimSpace(blocks[3]), "\n") {
		if !strings.HasPrefix(l, "$ ") {
			shown = append(shown, l)
		}
	}
	res, err := Bytes([]byte(conf), "keepalived.conf", Options{Parse: keepalived.Options{ConfigID: "host"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, diagText(res))
	}
	if got := strings.TrimSpace(diagText(res)); got != strings.Join(shown, "\n") {
		t.Errorf("docs/migration.md shows:\n%s\nlbx convert prints:\n%s", strings.Join(shown, "\n"), got)
	}
}

// TestOpensBlockKnown: every keyword opensBlock lets open a block is one
// the converter reads (or reports as inexpressible) in that block, so the
// table and the converter's keyword switches agree.
func TestOpensBlockKnown(t *testing.T) {
	wrap := map[string]string{
		"":                "%s",
		"global_defs":     "global_defs {\n%s}\n",
		"vrrp_sync_group": "vrrp_sync_group G {\n%s}\n",
		"vrrp_instance":   "vrrp_instance V {\n%s}\n",
		"virtual_server":  "virtual_server 10.0.0.1 80 {\n%s}\n",
		"real_server":     "virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n%s }\n}\n",
		"HTTP_GET":        "virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n%s  }\n }\n}\n",
		"SSL_GET":         "virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  SSL_GET {\n%s  }\n }\n}\n",
		"SMTP_CHECK":      "virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  SMTP_CHECK {\n%s  }\n }\n}\n",
	}
	for ctx, kws := range opensBlock {
		w, ok := wrap[ctx]
		if !ok {
			if len(kws) > 0 {
				t.Errorf("no test wrapper for %q, whose blocks %v the converter must read", ctx, kws)
			}
			continue
		}
		for _, kw := range kws {
			conf := fmt.Sprintf(w, kw+" x {\n}\n")
			res, _ := Bytes([]byte(conf), "k.conf", Options{Parse: keepalived.Options{ConfigID: "host"}})
			if d := diagText(res); strings.Contains(d, fmt.Sprintf("unknown keyword %q", kw)) {
				t.Errorf("%s in %q: keepalived opens a block, the converter does not know it:\n%s", kw, ctx, d)
			}
		}
	}
}

// runCase is a file whose fate keepalived's config test does not show
// (-t accepts it, or says nothing): a running keepalived's (--vrrp) must
// match what lbx convert says of it.
type runCase struct {
	name string
	conf string // with eth0
	lbx  string // a substring of lbx convert's diagnostics
	// stops: lbx refuses the file and keepalived exits 2 (a permanent
	// configuration error); otherwise both run it.
	stops bool
	says  []string // in keepalived's log (and its -d dump)
}

var runCases = []runCase{
	{
		name:  "virtual_router_id 0: keepalived terminates (1715.conf)",
		conf:  "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 0\n virtual_ipaddress {\n  10.0.0.100\n }\n}\nvrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  10.0.0.101\n }\n}\n",
		lbx:   "keepalived does not start without one",
		stops: true,
		says:  []string{"(VI_1) the virtual router id must be set", "exited with permanent error CONFIG. Terminating"},
	},
	{
		name:  "a VRRPv3 instance without virtual_ipaddress: keepalived terminates",
		conf:  "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n version 3\n}\n",
		lbx:   "vrrp_instance VI_1 has no virtual_ipaddress: keepalived does not start with it",
		stops: true,
		says:  []string{"(VI_1) No VIP specified; at least one is required", "exited with permanent error CONFIG. Terminating"},
	},
	{
		name:  "a vrrp_strict instance without virtual_ipaddress: keepalived terminates",
		conf:  "global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n}\n",
		lbx:   "vrrp_instance VI_1 has no virtual_ipaddress: keepalived does not start with it",
		stops: true,
		says:  []string{"(VI_1) No VIP specified; at least one is required", "exited with permanent error CONFIG. Terminating"},
	},
	{
		name: "a vrrp_script defined twice: the first is tracked, the second dropped",
		conf: scriptSecurity + "vrrp_script chk {\n script /bin/true\n weight 10\n}\nvrrp_script chk {\n script /bin/false\n weight 20\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n track_script {\n  chk\n }\n virtual_ipaddress {\n  10.0.0.9/24\n }\n}\n",
		lbx:  "vrrp_script chk is defined again",
		says: []string{"Warning - script chk is not used", "Tracked scripts :\n     chk weight 10\n", "Command = '/usr/bin/true'"},
	},
}

// TestKeepalivedRuns: what lbx convert says keepalived does with each of
// runCases, a running keepalived 2.2.7 does.
func TestKeepalivedRuns(t *testing.T) {
	nstest.Require(t, "keepalived")
	for _, tc := range runCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "k.conf")
			if err := os.WriteFile(conf, []byte(tc.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := File(conf, Options{Parse: keepalived.Options{ConfigID: "host"}})
			if (err != nil) != tc.stops || !strings.Contains(diagText(res), tc.lbx) {
				t.Errorf("lbx convert: %v, want %q and refusal %v:\n%s", err, tc.lbx, tc.stops, diagText(res))
			}
			out, code := runKeepalived(t, conf, dir)
			switch {
			case tc.stops && code != 2:
				t.Errorf("keepalived exit %d, want 2 (a configuration error):\n%s", code, out)
			case !tc.stops && code != -1:
				t.Errorf("keepalived exit %d, want it running:\n%s", code, out)
			}
			for _, want := range tc.says {
				if !strings.Contains(out, want) {
					t.Errorf("keepalived does not say %q:\n%s", want, out)
				}
			}
		})
	}
}

// runKeepalived runs keepalived's VRRP process on conf in a namespace
// with eth0, dumping its configuration (-d), for up to 10 s: its log with
// the time stamps cut, and its exit status (-1: still running then, and
// stopped with SIGTERM, which it obeys, children included).
func runKeepalived(t *testing.T, conf, dir string) (string, int) {
	t.Helper()
	ns := nstest.New(t, nstest.Unique("kr"))
	ns.Link(t, "eth0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.Name, "keepalived", "--vrrp", "-n", "-l", "-D", "-d", "-f", conf,
		"-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		// "Sat Dec  5 02:06:37 2026: " precedes each line.
		if _, rest, ok := strings.Cut(l, ": "); ok && len(l) > 26 && l[24] == ':' {
			l = rest
		}
		lines = append(lines, l)
	}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return strings.Join(lines, "\n"), -1
	case errors.As(err, &ee):
		return strings.Join(lines, "\n"), ee.ExitCode()
	case err != nil:
		t.Fatalf("keepalived: %v", err)
	}
	return strings.Join(lines, "\n"), 0
}
