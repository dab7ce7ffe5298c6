package watch

// trigger is what woke a reconcile. Its scope says what the reconcile
// reads and plans; the loop and the reconcile branch on the scope (and
// on the VRRP trigger's own handling), never on a name.
type trigger uint8

const (
	trigResync       trigger = iota // the resync ticker
	trigRetry                       // the retry of a failed reconcile
	trigReload                      // a reload put a new model in force
	trigResubscribed                // a netlink subscription was renewed: changes in between went unnotified
	trigBGP                         // the kernel announcer's routes changed
	trigStop                        // the stop's own reconcile (ipvs_on_stop: remove)
	trigVRRP                        // vrrpd's states changed (it waits for the answer)
	trigNetlink                     // an address, route or link notification of ours
	trigHealth                      // real servers changed health
	trigDrain                       // the drain poll: drained real servers' connections
	trigStart                       // the start's table, before the checker and VRRP start
)

// scope is the part of the kernel a reconcile reads and plans.
type scope uint8

const (
	scopeWhole     scope = iota // everything the model declares
	scopeAddresses              // addresses and routes only (VRRP's and the notifications' part)
	scopeReals                  // the real servers of the services whose health changed
	scopeDrains                 // those, and the services with real servers draining
)

var triggerNames = [...]string{
	trigResync: "resync", trigRetry: "retry", trigReload: "reload", trigResubscribed: "resubscribed",
	trigBGP: "bgp", trigStop: "stop", trigVRRP: "vrrp", trigNetlink: "netlink", trigHealth: "health", trigDrain: "drain",
	trigStart: "start",
}

// String is the trigger as the log names it.
func (t trigger) String() string {
	if int(t) < len(triggerNames) {
		return triggerNames[t]
	}
	return "unknown"
}

// scope is what a reconcile for t needs at most: a VRRP transition
// changes only addresses and routes, and an address or route notification
// is about them (lbx's own changes come back as ones); a health change
// concerns its services' real servers; anything else may concern
// everything.
func (t trigger) scope() scope {
	switch t {
	case trigVRRP, trigNetlink:
		return scopeAddresses
	case trigHealth:
		return scopeReals
	case trigDrain:
		return scopeDrains
	}
	return scopeWhole
}

// followsVRRP says a turn for t may have changed the VRRP states or the
// model, so the sync daemons are brought in line after it. A health,
// drain or address-notification turn changes neither (drift of the
// daemons is the resync's); the start's table comes before VRRP has
// said anything, and the daemons wait for its first states.
func (t trigger) followsVRRP() bool {
	return t == trigVRRP || t.scope() == scopeWhole && t != trigStart
}
