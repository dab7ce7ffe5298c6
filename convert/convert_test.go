package convert

import (
	"strconv"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

func run(t *testing.T, conf string, strict bool) (*Result, string, error) {
	t.Helper()
	res, err := Bytes([]byte(conf), "k.conf", Options{Strict: strict, Parse: keepalived.Options{ConfigID: "host"}})
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	if err != nil {
		return res, "", err
	}
	out, yerr := res.YAML("k.conf")
	if yerr != nil {
		t.Fatalf("YAML: %v", yerr)
	}
	if _, verr := model.Parse(out, "out.yaml"); verr != nil {
		t.Fatalf("converted model does not validate: %v\n%s", verr, out)
	}
	return res, string(out), nil
}

func diagText(r *Result) string {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

// vs wraps real-server text in a minimal virtual server.
const vsHead = "virtual_server 10.0.0.1 80 {\n protocol TCP\n"

func TestConvert(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want []string // substrings of the YAML, in order
		not  []string // not in the YAML
		diag []string // substrings of the diagnostics
	}{
		{
			name: "defaults written out",
			conf: vsHead + " real_server 10.0.1.1 80 {\n  TCP_CHECK {\n  }\n }\n}\n",
			want: []string{"address: 10.0.0.1", "port: 80", "protocol: tcp", "scheduler: wlc", "forwarding: nat", "delay_loop: 1m", "weight: 1",
				"type: tcp", "connect_port: 80", "connect_timeout: 5s", "retry: 1", "delay_before_retry: 1s", "delay_loop: 1m"},
		},
		{
			name: "no protocol is UDP in keepalived 2.2",
			conf: "virtual_server 10.0.0.1 53 {\n real_server 10.0.1.1 53 {\n }\n}\n",
			want: []string{"protocol: udp"},
			diag: []string{"k.conf:1: warning: no protocol: keepalived 2.2 programs this service as UDP"},
		},
		{
			name: "legacy lb_algo, lb_kind, nb_get_retry",
			conf: vsHead + " lb_algo rr\n lb_kind DR\n real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url {\n    path /\n   }\n   nb_get_retry 4\n  }\n }\n}\n",
			want: []string{"scheduler: rr", "forwarding: dr", "retry: 4", "delay_before_retry: 3s", "status_codes:", "- 200-299"},
			diag: []string{"k.conf:3: warning: \"lb_algo\" is a legacy form", "k.conf:4: warning: \"lb_kind\" is a legacy form", "k.conf:10: warning: \"nb_get_retry\" is a legacy form; converted as retry"},
		},
		{
			name: "modern lvs_sched and lvs_method TUN with type",
			conf: vsHead + " lvs_sched mh\n mh-port\n flag-1\n lvs_method TUN type gue port 6080 csum\n real_server 10.0.1.1 80 {\n }\n}\n",
			want: []string{"scheduler: mh", "scheduler_flags:", "- mh-port", "- flag-1", "forwarding: tun", "tunnel:", "type: gue", "port: 6080", "checksum: csum"},
		},
		{
			name: "sh flags dropped on other schedulers",
			conf: vsHead + " lvs_sched rr\n sh-port\n real_server 10.0.1.1 80 {\n }\n}\n",
			diag: []string{"k.conf:4: warning: sh-port only applies to the sh scheduler"},
		},
		{
			name: "persistence without a value is 360s; granularity",
			conf: vsHead + " persistence_timeout\n persistence_granularity 255.255.255.0\n real_server 10.0.1.1 80 {\n }\n}\n",
			want: []string{"persistence:", "timeout: 6m", "granularity: 24"},
		},
		{
			name: "persistence_timeout 0 is legacy for none",
			conf: vsHead + " persistence_timeout 0\n real_server 10.0.1.1 80 {\n }\n}\n",
			diag: []string{"k.conf:3: warning: persistence_timeout 0 is a legacy way"},
		},
		{
			name: "port 0 forces persistence",
			conf: "virtual_server 10.0.0.1 0 {\n protocol TCP\n real_server 10.0.1.1 0 {\n }\n}\n",
			want: []string{"timeout: 6m"},
			diag: []string{"k.conf:1: warning: a service without a port must be persistent"},
		},
		{
			name: "IPv6 granularity as prefix length",
			conf: "virtual_server 2001:db8::1 443 {\n protocol TCP\n persistence_timeout 60\n persistence_granularity 64\n real_server 2001:db8::10 443 {\n }\n}\n",
			want: []string{"address: 2001:db8::1", "timeout: 1m", "granularity: 64", "address: 2001:db8::10"},
		},
		{
			name: "DR real server port reset to the service port",
			conf: vsHead + " lvs_method DR\n real_server 10.0.1.1 8080 {\n }\n}\n",
			want: []string{"real_servers:", "port: 80"},
			diag: []string{"k.conf:4: warning: real server 10.0.1.1 port 8080 differs from the service port 80 with DR forwarding; keepalived resets it"},
		},
		{
			name: "NAT real server without port takes the service port; keeps its own",
			conf: vsHead + " real_server 10.0.1.1 {\n }\n real_server 10.0.1.2 8080 {\n }\n}\n",
			want: []string{"address: 10.0.1.1\n        port: 80", "address: 10.0.1.2\n        port: 8080"},
		},
		{
			name: "fwmark: no protocol, real server without port, DR port cleared",
			conf: "virtual_server fwmark 7 {\n protocol TCP\n lvs_method DR\n real_server 10.0.1.1 {\n }\n real_server 10.0.1.2 80 {\n }\n}\n",
			want: []string{"fwmark: 7", "forwarding: dr", "- address: 10.0.1.1\n        weight: 1", "- address: 10.0.1.2\n        weight: 1"},
			diag: []string{"k.conf:2: warning: protocol is ignored for fwmark services", "k.conf:6: warning: real server 10.0.1.2 of fwmark service with DR forwarding has port 80; keepalived clears it"},
		},
		{
			name: "fwmark IPv6 family",
			conf: "virtual_server fwmark 9 {\n ip_family inet6\n real_server 2001:db8::2 {\n }\n}\n",
			want: []string{"fwmark: 9", "family: 6"},
		},
		{
			name: "virtual_server_group with ranges, full-address ranges and fwmark",
			conf: "virtual_server_group G {\n 10.0.0.10-12 80\n 10.0.0.20-10.0.0.21 80\n 2001:db8::a-c 80\n fwmark 3\n}\nvirtual_server group G {\n protocol UDP\n real_server 10.0.1.1 80 {\n }\n}\n",
			want: []string{"name: G", "address: 10.0.0.10-12", "address: 10.0.0.20-21", "address: 2001:db8::a-c", "fwmark: 3", "group: G", "protocol: udp"},
		},
		{
			name: "group defined after its virtual server",
			conf: "virtual_server group G {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\nvirtual_server_group G {\n 10.0.0.10 80\n}\n",
			want: []string{"group: G"},
		},
		{
			name: "CIDR group member is not expressible",
			conf: "virtual_server_group G {\n 10.0.0.8/29 80\n 10.0.0.1 80\n}\nvirtual_server group G {\n protocol TCP\n real_server 10.0.1.1 80 {\n }\n}\n",
			diag: []string{"k.conf:2: warning: \"10.0.0.8/29 80\" is not expressible"},
		},
		{
			name: "sorry server, inhibit, quorum, hysteresis, alpha, omega, ha_suspend",
			conf: vsHead + " sorry_server 10.0.9.9 80\n sorry_server_inhibit\n inhibit_on_failure\n alpha\n omega\n ha_suspend\n quorum 2\n hysteresis 1\n quorum_up \"/bin/up x\"\n quorum_down /bin/down\n real_server 10.0.1.1 80 {\n  weight 2\n }\n}\n",
			want: []string{"sorry_server:", "address: 10.0.9.9", "inhibit: true", "inhibit_on_failure: true", "quorum:", "min: 2", "hysteresis: 1", "up_script: /bin/up x", "down_script: /bin/down", "alpha: true", "omega: true", "ha_suspend: true"},
		},
		{
			name: "quorum clamped to total weight, hysteresis below quorum",
			conf: vsHead + " quorum 5\n hysteresis 3\n real_server 10.0.1.1 80 {\n }\n}\n",
			want: []string{"min: 1"},
			diag: []string{"k.conf:3: warning: quorum 5 exceeds the total weight", "k.conf:4: warning: hysteresis 3 is not below quorum 1"},
		},
		{
			name: "settings inherit virtual server -> real server -> checker",
			conf: vsHead + " delay_loop 10\n connect_timeout 2\n real_server 10.0.1.1 8080 {\n  retry 5\n  delay_before_retry 0.5\n  TCP_CHECK {\n  }\n  TCP_CHECK {\n   connect_port 9000\n   delay_loop 3\n  }\n }\n}\n",
			want: []string{"delay_loop: 10s", "connect_port: 8080", "connect_timeout: 2s", "retry: 5", "delay_before_retry: 500ms", "delay_loop: 10s", "connect_port: 9000", "connect_timeout: 2s", "retry: 5", "delay_loop: 3s"},
		},
		{
			name: "weight default from the virtual server",
			conf: vsHead + " weight 7\n real_server 10.0.1.1 80 {\n }\n real_server 10.0.1.2 80 {\n  weight 0\n }\n}\n",
			want: []string{"weight: 7", "weight: 0"},
		},
		{
			name: "HTTP_GET and SSL_GET: urls, status code lists, virtualhost, sni",
			conf: vsHead + " virtualhost www.example\n real_server 10.0.1.1 80 {\n  SSL_GET {\n   enable_sni\n   url {\n    path /a\n    digest 9B3A0C85A887A256D6939DA88AABD8CD\n    status_code 200-299 400-499 503\n   }\n   url {\n    path /b\n    virtualhost other\n   }\n  }\n }\n}\n",
			want: []string{"virtualhost: www.example", "type: ssl_get", "path: /a", "digest: 9b3a0c85a887a256d6939da88aabd8cd", "- 200-299", "- 400-499", "- \"503\"", "path: /b", "virtualhost: other", "virtualhost: www.example", "sni: www.example"},
		},
		{
			name: "MISC_CHECK with arguments, timeout, dynamic, user; retry default 0",
			conf: vsHead + " real_server 10.0.1.1 80 {\n  MISC_CHECK {\n   misc_path \"/bin/check 10.0.1.1 80\"\n   misc_timeout 4\n   misc_dynamic\n   user nobody\n  }\n }\n}\n",
			want: []string{"type: misc", "retry: 0", "delay_before_retry: 1s", "path: /bin/check 10.0.1.1 80", "timeout: 4s", "dynamic: true", "user: nobody"},
		},
		{
			name: "MISC_CHECK user and group are both carried (and run as)",
			conf: vsHead + " real_server 10.0.1.1 80 {\n  MISC_CHECK {\n   misc_path /bin/check\n   user nobody nogroup\n  }\n }\n}\n",
			want: []string{"type: misc", "user: nobody nogroup"},
		},
		{
			name: "script_user is carried; a notify script's own user is not, and convert says who runs it",
			conf: "global_defs {\n script_user nobody\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.5\n }\n notify_master /bin/m.sh mailer\n}\n",
			want: []string{"script_user: nobody", `notify_master runs as user "mailer" in keepalived`, "lbx runs it as the default script user", "master: /bin/m.sh"},
		},
		{
			name: "SMTP legacy host blocks become one check each",
			conf: vsHead + " real_server 10.0.1.1 25 {\n  SMTP_CHECK {\n   helo_name me\n   host {\n    connect_ip 10.0.1.5\n    connect_port 2525\n   }\n   host {\n    connect_ip 10.0.1.6\n   }\n  }\n }\n}\n",
			want: []string{"type: smtp", "connect_ip: 10.0.1.5", "connect_port: 2525", "helo_name: me", "type: smtp", "connect_ip: 10.0.1.6", "connect_port: 25"},
			diag: []string{"k.conf:6: warning: \"host\" is a legacy form"},
		},
		{
			name: "DNS, UDP, PING, FILE checks",
			conf: "track_file tf {\n file /run/w\n}\n" + vsHead + " real_server 10.0.1.1 53 {\n  DNS_CHECK {\n   type a\n   name example.org\n  }\n  UDP_CHECK {\n   payload 01 02\n   require_reply\n  }\n  PING_CHECK {\n  }\n  FILE_CHECK {\n   track_file tf\n  }\n }\n}\n",
			want: []string{"type: dns", "retry: 3", "delay_before_retry: 1m", "dns_type: A", "dns_name: example.org", "type: udp", "payload: \"0102\"", "require_reply: true", "type: ping", "connect_timeout: 5s", "type: file", "file: /run/w"},
		},
		{
			name: "global_defs",
			conf: "global_defs {\n router_id R1\n enable_script_security\n script_user root wheel\n notification_email {\n  a@x\n  b@x\n }\n notification_email_from k@x\n smtp_server 10.0.0.9 2525\n smtp_connect_timeout 30\n vrrp_garp_master_delay 2\n vrrp_garp_master_repeat 3\n vrrp_version 3\n vrrp_strict\n lvs_sync_daemon eth1 VI_1 id 7\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  2001:db8::5\n }\n}\n",
			want: []string{"router_id: R1", "enable_script_security: true", "script_user: root", "script_group: wheel", "- a@x", "- b@x", "notification_email_from: k@x", "smtp_server: 10.0.0.9:2525", "smtp_connect_timeout: 30s", "vrrp_garp_master_delay: 2s", "vrrp_garp_master_repeat: 3", "vrrp_version: 3", "vrrp_strict: true", "lvs_sync_daemon:", "interface: eth1", "vrrp_instance: VI_1", "sync_id: 7", "version: 3"},
		},
		{
			name: "vrrp_script and vrrp_instance",
			conf: "vrrp_script chk {\n script \"/bin/chk arg\"\n interval 2\n timeout 1\n weight -20 reverse\n rise 2\n fall 3\n user nobody\n init_fail\n}\nvrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 51\n priority 150\n advert_int 2\n unicast_src_ip 10.0.0.2\n unicast_peer {\n  10.0.0.3\n }\n authentication {\n  auth_type PASS\n  auth_pass secret\n }\n nopreempt\n preempt_delay 5\n garp_master_delay 3\n garp_master_repeat 2\n garp_master_refresh 60\n garp_master_refresh_repeat 2\n virtual_ipaddress {\n  10.0.0.100/24 dev eth1 label eth1:1 scope global\n }\n virtual_ipaddress_excluded {\n  10.0.5.1\n }\n track_interface {\n  eth1 weight -10\n  eth2\n }\n track_script {\n  chk weight 5\n }\n notify_master \"/bin/n master\"\n notify /bin/all\n smtp_alert\n}\nvrrp_sync_group G {\n group {\n  VI_1\n }\n notify_backup /bin/b\n}\n",
			want: []string{"chk:", "script: /bin/chk arg", "interval: 2s", "timeout: 1s", "weight: -20", "weight_reverse: true", "rise: 2", "fall: 3", "user: nobody", "init_fail: true",
				"name: VI_1", "state: BACKUP", "interface: eth0", "virtual_router_id: 51", "priority: 150", "advert_int: 2s", "version: 2", "unicast_src_ip: 10.0.0.2", "- 10.0.0.3", "type: PASS", "pass: secret", "nopreempt: true",
				"garp_master_delay: 3s", "garp_master_repeat: 2", "garp_master_refresh: 1m", "garp_master_refresh_repeat: 2", "address: 10.0.0.100/24", "interface: eth1", "label: eth1:1", "scope: global", "virtual_addresses_excluded:", "address: 10.0.5.1/32",
				"name: eth1", "weight: -10", "name: eth2", "name: chk", "weight: 5", "master: /bin/n master", "any: /bin/all", "smtp_alert: true", "name: G", "- VI_1", "backup: /bin/b"},
			not:  []string{"preempt_delay: 5s"},
			diag: []string{"k.conf:26: warning: preempt_delay with nopreempt: keepalived clears it"},
		},
		{
			name: "instance defaults: priority 100, advert 1s, IPv6 means v3",
			conf: "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  2001:db8::1/64\n }\n}\n",
			want: []string{"priority: 100", "advert_int: 1s", "version: 3"},
		},
		{
			name: "nopreempt with MASTER is dropped",
			conf: "vrrp_instance V {\n state MASTER\n nopreempt\n interface eth0\n virtual_router_id 1\n priority 150\n}\n",
			diag: []string{"k.conf:3: warning: nopreempt does not work with state MASTER: keepalived clears it"},
		},
		{
			name: "sync group members outside group {} (legacy)",
			conf: "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\nvrrp_sync_group G {\n A\n}\n",
			want: []string{"members:", "- A"},
			diag: []string{"k.conf:6: warning: \"A\" is a legacy form"},
		},
		{
			name: "lvs_sync_daemon_interface in an instance (legacy)",
			conf: "vrrp_instance A {\n interface eth0\n virtual_router_id 9\n lvs_sync_daemon_interface eth1\n}\n",
			want: []string{"lvs_sync_daemon:", "interface: eth1", "vrrp_instance: A", "sync_id: 9"},
			diag: []string{"k.conf:4: warning: \"lvs_sync_daemon_interface\" is a legacy form"},
		},
		{
			name: "lvs_sync_daemon with every setting",
			conf: "global_defs {\n lvs_sync_daemon sy0 inst VI_1 id 0 maxlen 1000 port 9000 ttl 3 group 239.1.1.1\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n}\n",
			want: []string{"interface: sy0", "vrrp_instance: VI_1", "sync_id: 0", "max_len: 1000", "port: 9000", "ttl: 3", "group: 239.1.1.1"},
		},
		{
			name: "lvs_sync_daemon of an unknown instance: left out, as keepalived",
			conf: "global_defs {\n lvs_sync_daemon eth1 VI_9 id 4\n}\n",
			not:  []string{"interface: eth1"},
			diag: []string{"k.conf:2: warning: lvs_sync_daemon: no vrrp_instance named \"VI_9\", so keepalived runs no sync daemon; left out"},
		},
		{
			name: "lvs_sync_daemon without an instance: keepalived runs master and backup, the model cannot",
			conf: "global_defs {\n lvs_sync_daemon eth1\n}\n",
			not:  []string{"interface: eth1"},
			diag: []string{"k.conf:2: warning: \"lvs_sync_daemon eth1\" is not expressible in the lbx model (without a VRRP instance keepalived runs both a master and a backup sync daemon on eth1 with sync id 0"},
		},
		{
			name: "nat_mask ignored with a warning",
			conf: vsHead + " nat_mask 255.255.255.0\n real_server 10.0.1.1 80 {\n }\n}\n",
			diag: []string{"k.conf:3: warning: nat_mask is a legacy keyword"},
		},
		{
			name: "not expressible keywords become warnings and comments",
			conf: "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n use_vmac\n virtual_rules {\n  from 10.9.0.0/16 table 1\n }\n}\nstatic_rules {\n to 10.8.0.0/16 table 1\n}\n",
			want: []string{"# k.conf:9: not converted: static_rules { ... }", "# k.conf:4: not converted: use_vmac", "# k.conf:5: not converted: virtual_rules { ... }", "name: A"},
			diag: []string{"k.conf:4: warning: \"use_vmac\" is not expressible", "k.conf:5: warning: \"virtual_rules { ... }\" is not expressible", "k.conf:9: warning: \"static_rules { ... }\" is not expressible"},
		},
		{
			name: "static and virtual routes in every form keepalived writes",
			conf: "static_routes {\n src 192.168.100.1 192.168.209.0/24 via 192.168.200.254 dev eth0\n 192.168.212.0/24 dev eth3 scope site\n" +
				" 192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev wlan0 onlink weight 1 nexthop via 192.168.101.2 dev wlan0 onlink weight 2\n}\n" +
				"vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_routes {\n  192.168.113.0/24 via 192.168.100.252 or 192.168.100.253\n" +
				"  blackhole 192.168.113.1/32\n  0.0.0.0/0 gw 192.168.0.1 table 100\n  to 10.1.0.0/16 via 10.0.0.1 metric 5 mtu lock 1400 no_track\n" +
				"  default via 2001:db8::1 table main\n  to unreachable 10.2.0.0/16\n  10.3.0.0/16 dev eth0 scope 253\n  2001:db8:5::/48 dev eth0 scope link\n }\n}\n",
			want: []string{
				"routes:", "- to: 192.168.209.0/24", "via: 192.168.200.254", "interface: eth0", "src: 192.168.100.1",
				"- to: 192.168.212.0/24", "interface: eth3", "scope: site",
				"- to: 192.168.100.0/24", "nexthops:", "- via: 192.168.101.1", "interface: wlan0", "weight: 1", "onlink: true", "- via: 192.168.101.2", "weight: 2", "table: 6909",
				"virtual_routes:", "# k.conf:10: route 192.168.113.0/24: `or` is deprecated, and keepalived 2.2.7 fails", "to: 192.168.113.0/24", "nexthops:", "- via: 192.168.100.252", "- via: 192.168.100.253",
				"- to: 192.168.113.1/32", "type: blackhole",
				"- to: 0.0.0.0/0", "via: 192.168.0.1", "table: 100",
				"# k.conf:13: route 10.1.0.0/16: `mtu 1400` is not in the model; left out", "# k.conf:13: route 10.1.0.0/16: no_track left out", "to: 10.1.0.0/16", "via: 10.0.0.1", "metric: 5",
				"- to: ::/0", "via: 2001:db8::1", "table: 254",
				"- to: 10.2.0.0/16", "type: unreachable", "- to: 10.3.0.0/16", "interface: eth0", "scope: link",
				"# k.conf:17: route 2001:db8:5::/48: scope link left out: the kernel keeps every IPv6 route global", "to: 2001:db8:5::/48",
			},
		},
		{
			name: "a route lbx cannot express is left out whole",
			conf: "static_routes {\n 10.1.0.0/16 via 10.0.0.1 tos 4\n 10.2.0.0/16 via 10.0.0.1 tos 0\n}\n",
			want: []string{"# k.conf:2: not converted: 10.1.0.0/16 via 10.0.0.1 tos 4  # routes by TOS are not in the model", "- to: 10.2.0.0/16"},
			not:  []string{"10.1.0.0/16\n"},
			diag: []string{"k.conf:2: warning: \"10.1.0.0/16 via 10.0.0.1 tos 4\" is not expressible"},
		},
		{
			name: "static_ipaddress",
			conf: "static_ipaddress {\n 10.0.0.5/24 dev eth1 scope link\n}\n",
			want: []string{"addresses:", "address: 10.0.0.5/24", "interface: eth1", "scope: link"},
		},
		{
			name: "virtual server without real servers is dropped",
			conf: vsHead + "}\n",
			diag: []string{"k.conf:1: warning: virtual_server 10.0.0.1 80 { ... } has no real servers"},
		},
		{
			name: "duplicate real server dropped",
			conf: vsHead + " real_server 10.0.1.1 80 {\n }\n real_server 10.0.1.1 80 {\n }\n}\n",
			diag: []string{"k.conf:5: warning: real server 10.0.1.1:80 is listed twice"},
		},
		{
			name: "ops needs UDP",
			conf: vsHead + " ops\n real_server 10.0.1.1 80 {\n }\n}\nvirtual_server 10.0.0.2 53 {\n protocol UDP\n ops\n real_server 10.0.1.1 53 {\n }\n}\n",
			want: []string{"one_packet: true"},
			diag: []string{"k.conf:3: warning: ops (one-packet scheduling) needs UDP"},
		},
		{
			name: "every scheduler",
			conf: func() string {
				var b strings.Builder
				for i, s := range model.Schedulers {
					b.WriteString("virtual_server 10.0.0." + itoa(i+1) + " 80 {\n protocol TCP\n lvs_sched " + s + "\n real_server 10.0.1.1 80 {\n }\n}\n")
				}
				return b.String()
			}(),
			want: func() []string {
				var w []string
				for _, s := range model.Schedulers {
					w = append(w, "scheduler: "+s+"\n")
				}
				return w
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, out, err := run(t, tt.conf, false)
			if err != nil {
				t.Fatalf("convert: %v\n%s", err, diagText(res))
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order) after earlier matches:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
			d := diagText(res)
			for _, w := range tt.diag {
				if !strings.Contains(d, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, d)
				}
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name, conf, want string
	}{
		{"invalid address in rules", "static_rules {\n to 192.168.100./24 table 1\n}\n", "k.conf:2: error: \"192.168.100./24\" is not a valid IP address or prefix"},
		{"VRID 300", "vrrp_instance V {\n interface eth0\n virtual_router_id 300\n}\n", "k.conf:3: error: vrrp_instance V virtual_router_id 300 is not a number from 1 to 255 (keepalived: \"VRID '300' not valid - must be between 1 & 255\"): keepalived does not start without one (\"the virtual router id must be set\", chk_min_cfg"},
		{"missing interface", "vrrp_instance V {\n virtual_router_id 1\n}\n", "k.conf:1: error: vrrp_instance V has no interface"},
		{"unknown group", "virtual_server group NOPE {\n real_server 10.0.1.1 80 {\n }\n}\n", "k.conf:1: error: virtual_server group NOPE: no virtual_server_group"},
		{"bad timer", vsHead + " delay_loop soon\n real_server 10.0.1.1 80 {\n }\n}\n", "k.conf:3: error: delay_loop: \"soon\" is not a time in seconds"},
		{"bad digest", vsHead + " real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url {\n    path /\n    digest xyz\n   }\n  }\n }\n}\n", "k.conf:7: error: digest: want 32 hex digits"},
		{"bad status code", vsHead + " real_server 10.0.1.1 80 {\n  HTTP_GET {\n   url {\n    path /\n    status_code 200-99\n   }\n  }\n }\n}\n", "k.conf:7: error: status_code:"},
		{"sync group unknown member", "vrrp_sync_group G {\n group {\n  NOPE\n }\n}\n", "k.conf:1: error: vrrp_sync_group G: no vrrp_instance named \"NOPE\""},
		{"sync daemon ttl", "global_defs {\n lvs_sync_daemon eth1 VI_1 ttl 0\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n}\n", "k.conf:2: error: lvs_sync_daemon ttl: want 1..255, got \"0\""},
		{"sync daemon group", "global_defs {\n lvs_sync_daemon eth1 VI_1 group 10.0.0.1\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n}\n", "k.conf:2: error: lvs_sync_daemon group: want a multicast address"},
		{"sync daemon value missing", "global_defs {\n lvs_sync_daemon eth1 VI_1 port\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n}\n", "k.conf:2: error: lvs_sync_daemon port: missing its value"},
		{"group range end", "virtual_server_group G {\n 10.0.0.10-5 80\n}\n", "k.conf:2: error: virtual_server_group: range \"10.0.0.10-5\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := run(t, tt.conf, false)
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if d := diagText(res); !strings.Contains(d, tt.want) {
				t.Errorf("diagnostics lack %q:\n%s", tt.want, d)
			}
		})
	}
}

func TestStrict(t *testing.T) {
	conf := "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n use_vmac\n}\n"
	if _, _, err := run(t, conf, false); err != nil {
		t.Fatalf("without --strict: %v", err)
	}
	res, _, err := run(t, conf, true)
	if err == nil {
		t.Fatal("--strict accepted a keyword the model cannot express")
	}
	if d := diagText(res); !strings.Contains(d, "k.conf:4: error: \"use_vmac\" is not expressible") || !strings.Contains(d, "(--strict)") {
		t.Errorf("diagnostics: %s", d)
	}
}

func TestStable(t *testing.T) {
	conf := "vrrp_script b {\n script /b\n}\nvrrp_script a {\n script /a\n}\nvrrp_script c {\n script /c\n}\n" + vsHead + " real_server 10.0.1.9 80 {\n }\n real_server 10.0.1.1 80 {\n }\n}\n"
	_, first, err := run(t, conf, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		_, again, _ := run(t, conf, false)
		if again != first {
			t.Fatalf("run %d differs:\n%s\n---\n%s", i, first, again)
		}
	}
	// File order is kept, never sorted.
	if !(strings.Index(first, "  b:") < strings.Index(first, "  a:") && strings.Index(first, "  a:") < strings.Index(first, "  c:")) {
		t.Errorf("scripts not in file order:\n%s", first)
	}
	if strings.Index(first, "10.0.1.9") > strings.Index(first, "10.0.1.1\n") {
		t.Errorf("real servers not in file order:\n%s", first)
	}
}
