package kernel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/moby/ipvs"
	"github.com/sirupsen/logrus"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/kernel/ipvsnl"
	"github.com/lbx-dev/lbx/state"
)

// CallTimeout bounds every kernel call: moby/ipvs retries EAGAIN forever,
// so without it a wedged netlink socket would hang lbx.
var CallTimeout = 30 * time.Second

// NetKernel is the real kernel: IPVS through moby/ipvs (generic netlink),
// addresses through vishvananda/netlink (rtnetlink).
type NetKernel struct {
	ipvs   *ipvs.Handle
	nl     *netlink.Handle
	routes *routeReader // nil on kernels without strict checking
	broken error        // set when a call timed out: the handle may be mid-reply
	// netnsPath is the namespace's /run/netns path ("": lbx's own), for
	// its sysctls (sysctl_linux.go).
	netnsPath string
}

// IPVSUnavailableError means the kernel has no IPVS.
type IPVSUnavailableError struct {
	Netns string
	Cause error
}

func (e *IPVSUnavailableError) Error() string {
	msg := "IPVS is not available in this kernel: load it with `modprobe ip_vs` (needs CONFIG_IP_VS; containers need the host to load it)"
	if e.Cause != nil {
		msg += " [" + e.Cause.Error() + "]"
	}
	return msg
}

// KernelOptions say which kernel to open and how to write to it.
type KernelOptions struct {
	// Netns is a name under /run/netns; "" is the current namespace.
	Netns string
	// AddressesOnly opens addresses without IPVS (VRRP-only hosts, or
	// kernels without ip_vs); IPVS writes then fail.
	AddressesOnly bool
	// Writer selects the IPVS writer: "batch" (default: many requests per
	// system call) or "moby" (moby/ipvs, one request per call). The
	// environment variable LBX_IPVS_WRITER overrides it, for benchmarks.
	Writer string
}

// OpenNetKernel opens the kernel of the current network namespace, or of
// /run/netns/NAME when netnsName is set, with the default writer.
func OpenNetKernel(netnsName string) (Kernel, error) {
	return OpenKernel(KernelOptions{Netns: netnsName})
}

// OpenKernel opens the real kernel.
func OpenKernel(o KernelOptions) (Kernel, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("lbx needs root (CAP_NET_ADMIN) to read and change IPVS and addresses: run it with sudo, or use `lbx plan --live FILE` to plan against an exported state")
	}
	logrus.SetOutput(io.Discard) // moby/ipvs logs through logrus; lbx explains errors itself
	path := ""
	nsHandle := netns.None()
	if o.Netns != "" {
		path = "/run/netns/" + o.Netns
		h, err := netns.GetFromPath(path)
		if err != nil {
			return nil, fmt.Errorf("network namespace %q: %v (see `ip netns list`)", o.Netns, err)
		}
		nsHandle = h
		defer h.Close()
	}
	k := &NetKernel{netnsPath: path}
	var err error
	if o.Netns != "" {
		k.nl, err = netlink.NewHandleAt(nsHandle, unix.NETLINK_ROUTE)
	} else {
		k.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, explain(err, "open netlink")
	}
	if k.routes, err = openRouteReader(nsHandle); err != nil {
		k.Close()
		return nil, explain(err, "open netlink")
	}
	if o.AddressesOnly {
		return k, nil
	}
	writer := o.Writer
	if env := os.Getenv("LBX_IPVS_WRITER"); env != "" {
		writer = env
	}
	if writer == "moby" {
		k.ipvs, err = ipvs.New(path) // runs `modprobe ip_vs` once
		if err != nil {
			k.Close()
			return nil, explain(err, "open IPVS")
		}
		if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
			k.Close()
			return nil, &IPVSUnavailableError{Netns: o.Netns, Cause: err}
		}
		return k, nil
	}
	if err := loadIPVS(); err != nil {
		k.Close()
		return nil, &IPVSUnavailableError{Netns: o.Netns, Cause: err}
	}
	conn, err := ipvsnl.Open(path)
	if err != nil {
		k.Close()
		return nil, explain(err, "open IPVS")
	}
	return &BatchNetKernel{NetKernel: k, conn: conn, nsPath: path}, nil
}

// loadIPVS makes sure the kernel's IPVS generic netlink family exists,
// loading ip_vs with modprobe only when it is missing (as kube-proxy and
// moby/ipvs do, without an exec on every run).
func loadIPVS() error {
	if _, err := netlink.GenlFamilyGet("IPVS"); err == nil {
		return nil
	}
	out, mErr := exec.Command("modprobe", "-q", "ip_vs").CombinedOutput()
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		if mErr != nil {
			return fmt.Errorf("modprobe ip_vs: %v %s", mErr, strings.TrimSpace(string(out)))
		}
		return err
	}
	return nil
}

// call runs one kernel call under CallTimeout. The handle is used by one
// goroutine at a time (the caller's); the goroutine here only lets us stop
// waiting.
func (k *NetKernel) call(ctx context.Context, what string, fn func() error) error {
	if k.broken != nil {
		return k.broken
	}
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		k.broken = fmt.Errorf("%s: the kernel did not answer within %s; nothing more was sent: %w", what, CallTimeout, ErrKernelLost)
		return k.broken
	}
}

func (k *NetKernel) Close() error {
	if k.ipvs != nil {
		k.ipvs.Close()
	}
	if k.nl != nil {
		k.nl.Close()
	}
	if k.routes != nil {
		k.routes.Close()
	}
	return nil
}

// ErrAddressesOnly is returned by IPVS calls on an addresses-only kernel
// (opened for a model without virtual servers).
var ErrAddressesOnly = errors.New("IPVS is not open (addresses-only kernel): the model declares virtual servers, so run lbx where ip_vs is available")

func (k *NetKernel) needIPVS() error {
	if k.ipvs == nil {
		return ErrAddressesOnly
	}
	return nil
}

// Read dumps services, their destinations, IPVS's sysctls, all addresses
// and routes.
func (k *NetKernel) Read(ctx context.Context) (*state.State, error) {
	st := state.New()
	if k.ipvs == nil {
		// IPVS's sysctls may be there (ip_vs loaded after the kernel was
		// opened): a model that names them sees them as they are.
		if err := k.readIPVSSysctls(st); err != nil {
			return nil, err
		}
		return st, k.readNetwork(ctx, st)
	}
	var svcs []*ipvs.Service
	if err := k.call(ctx, "read IPVS services", func() (err error) { svcs, err = k.ipvs.GetServices(); return }); err != nil {
		return nil, explain(err, "read IPVS services")
	}
	for _, s := range svcs {
		svc, ok := fromIPVSService(s)
		if !ok {
			continue // a protocol lbx does not model; never touched
		}
		var dsts []*ipvs.Destination
		if err := k.call(ctx, "read real servers", func() (err error) { dsts, err = k.ipvs.GetDestinations(s); return }); err != nil {
			return nil, explain(err, "read real servers of "+svc.Key.String())
		}
		for _, d := range dsts {
			r := fromIPVSDest(d)
			svc.Reals[r.Key] = r
		}
		st.Services[svc.Key] = svc
	}
	if err := k.readBeyondIPVS(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// ReadsIPVS: whether Read dumps IPVS (not on an addresses-only kernel).
func (k *NetKernel) ReadsIPVS() bool { return k.ipvs != nil }

// ReadNetwork dumps the addresses and routes only.
func (k *NetKernel) ReadNetwork(ctx context.Context) (*state.State, error) {
	st := state.New()
	if err := k.readNetwork(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// readNetwork fills st's addresses and routes: one link, one address and
// one route dump.
// readBeyondIPVS reads what a whole read holds besides the IPVS table
// (both IPVS writers read that table their own way): the IPVS sysctls,
// links, addresses and routes.
func (k *NetKernel) readBeyondIPVS(ctx context.Context, st *state.State) error {
	if err := k.readIPVSSysctls(st); err != nil {
		return err
	}
	return k.readNetwork(ctx, st)
}

func (k *NetKernel) readNetwork(ctx context.Context, st *state.State) error {
	var links []netlink.Link
	var addrs []netlink.Addr
	var routes []netlink.Route
	err := k.call(ctx, "read addresses and routes", func() error {
		var err error
		// A dump interrupted by a concurrent change returns partial
		// results with ErrDumpInterrupted: read again.
		for try := 0; try < 5; try++ {
			links, err = k.nl.LinkList()
			if err == nil {
				addrs, err = k.nl.AddrList(nil, netlink.FAMILY_ALL)
			}
			if err == nil {
				if k.routes != nil {
					routes, err = k.routes.read()
				} else {
					routes, err = k.nl.RouteListFiltered(netlink.FAMILY_ALL, everyTable, netlink.RT_FILTER_TABLE)
				}
			}
			if !errors.Is(err, netlink.ErrDumpInterrupted) {
				return err
			}
		}
		return err
	})
	if err != nil {
		return explain(err, "read addresses and routes")
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	for _, a := range addrs {
		if sa, ok := stateAddr(a, names[a.LinkIndex]); ok {
			st.Addresses[sa.Key] = sa
		}
	}
	for _, r := range routes {
		if rt, ok := fromNetlinkRoute(r, names); ok {
			st.AddLiveRoute(rt)
		}
	}
	return nil
}

func isErrno(err error, no syscall.Errno) bool {
	var e syscall.Errno
	return errors.As(err, &e) && e == no
}

func explainOrNil(err error, what string) error {
	if err == nil {
		return nil
	}
	return explain(err, what)
}

// explain turns a kernel error into one line that says what to do.
func explain(err error, what string) error {
	switch {
	case isErrno(err, unix.EPERM), isErrno(err, unix.EACCES):
		return fmt.Errorf("%s: permission denied: lbx needs root (CAP_NET_ADMIN)", what)
	case isErrno(err, unix.EPROTONOSUPPORT):
		// Only the IPVS paths turn a missing family into
		// IPVSUnavailableError (loadIPVS); here it is another protocol.
		return fmt.Errorf("%s: the kernel lacks a netlink protocol lbx needs (%v)", what, err)
	case isErrno(err, unix.EINVAL):
		return fmt.Errorf("%s: the kernel refused the request as invalid (%v); check the model's values", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
