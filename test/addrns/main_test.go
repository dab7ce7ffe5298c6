// Package addrns_test checks, in network namespaces of its own (root:
// make test-ns), that lbx's own address deletes — `lbx apply`'s, and
// lbx watch's VRRP release — never take down an address lbx did not
// create: the kernel deletes an IPv4 subnet's secondary addresses with
// its primary unless promote_secondaries is set (plan.Change.Keeps).
package addrns_test

import (
	"os"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

func TestMain(m *testing.M) {
	os.Exit(testkit.Main(func() int { return nstest.MainGuardingHostDirs(m) }))
}
