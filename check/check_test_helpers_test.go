package check

import "net/netip"

var netipZero netip.Addr

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
