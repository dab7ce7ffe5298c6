package convert

import "slices"

// opensBlock lists, for each block lbx reads, the keywords keepalived
// 2.2.7 lets open a block inside it: those installed with a sublevel and
// those whose handler reads a value block (alloc_value_block,
// read_value_block) in global_parser.c, vrrp_parser.c, check_parser.c,
// check_http.c, check_smtp.c and track_file.c. A '{' after any other
// keyword opens nothing to keepalived (keepalived.Reshape).
var opensBlock = map[string][]string{
	"": {"global_defs", "vrrp_script", "vrrp_instance", "vrrp_sync_group", "virtual_server_group", "virtual_server",
		"static_ipaddress", "static_routes", "static_rules", "track_file", "vrrp_track_file", "vrrp_track_process",
		"track_group", "garp_group", "linkbeat_interfaces", "interface_up_down_delays", "bfd_instance", "SSL"},
	"global_defs":     {"notification_email"},
	"vrrp_sync_group": {"group", "track_interface", "track_script", "track_file", "track_process", "track_bfd"},
	"vrrp_instance": {"authentication", "unicast_peer", "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes",
		"virtual_rules", "track_interface", "track_script", "track_file", "track_process", "track_bfd"},
	"virtual_server": {"real_server"},
	"real_server":    {"TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK"},
	"HTTP_GET":       {"url"},
	"SSL_GET":        {"url"},
	"SMTP_CHECK":     {"host"},
	// Blocks that hold no block of their own.
	"vrrp_script": nil, "authentication": nil, "url": nil, "host": nil, "TCP_CHECK": nil, "MISC_CHECK": nil,
	"DNS_CHECK": nil, "UDP_CHECK": nil, "PING_CHECK": nil, "FILE_CHECK": nil,
}

// opens says whether kw opens a block inside the blocks path. Inside a
// block lbx does not read (value blocks, bfd_instance...) everything is
// left as written.
func opens(path []string, kw string) bool {
	in := ""
	if len(path) > 0 {
		in = path[len(path)-1]
	}
	kws, ok := opensBlock[in]
	return !ok || slices.Contains(kws, kw)
}
