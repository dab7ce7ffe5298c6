package watch

import "testing"

func TestTriggerScope(t *testing.T) {
	for _, tc := range []struct {
		t           trigger
		name        string
		scope       scope
		followsVRRP bool
	}{
		{trigResync, "resync", scopeWhole, true},
		{trigRetry, "retry", scopeWhole, true},
		{trigReload, "reload", scopeWhole, true},
		{trigResubscribed, "resubscribed", scopeWhole, true},
		{trigBGP, "bgp", scopeWhole, true},
		{trigStop, "stop", scopeWhole, true},
		{trigVRRP, "vrrp", scopeAddresses, true},
		{trigNetlink, "netlink", scopeAddresses, false},
		{trigHealth, "health", scopeReals, false},
		{trigDrain, "drain", scopeDrains, false},
		{trigStart, "start", scopeWhole, false},
		{trigger(200), "unknown", scopeWhole, true},
	} {
		if got := tc.t.String(); got != tc.name {
			t.Errorf("trigger %d named %q, want %q", tc.t, got, tc.name)
		}
		if got := tc.t.scope(); got != tc.scope {
			t.Errorf("%s: scope %d, want %d", tc.name, got, tc.scope)
		}
		if got := tc.t.followsVRRP(); got != tc.followsVRRP {
			t.Errorf("%s: followsVRRP %v, want %v", tc.name, got, tc.followsVRRP)
		}
	}
}

// TestScopeOf: an addresses-only trigger reconciles everything until a
// whole reconcile has read the kernel (the first one makes IPVS).
func TestScopeOf(t *testing.T) {
	for _, tc := range []struct {
		t         trigger
		wholeRead bool
		want      scope
	}{
		{trigVRRP, false, scopeWhole},
		{trigVRRP, true, scopeAddresses},
		{trigNetlink, false, scopeWhole},
		{trigNetlink, true, scopeAddresses},
		{trigHealth, false, scopeReals},
		{trigDrain, true, scopeDrains},
		{trigResync, true, scopeWhole},
	} {
		e := &engine{wholeRead: tc.wholeRead}
		if got := e.scopeOf(tc.t); got != tc.want {
			t.Errorf("%s (whole read %v): scope %d, want %d", tc.t, tc.wholeRead, got, tc.want)
		}
	}
}
