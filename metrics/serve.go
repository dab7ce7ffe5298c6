package metrics

import (
	"context"
	"fmt"
	"net"
)

// Listen binds addr (host:port, e.g. ":9650" or "127.0.0.1:9650") so that
// a taken port fails `lbx watch` at start, before it touches the kernel.
// An empty addr means metrics are off: Listen returns an error then, so
// callers check for "" first.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, errNoAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	return ln, nil
}

// Serve is Listen then ServeListener: it serves m on addr until ctx is done.
// An empty addr means metrics are off: Serve returns nil at once.
func Serve(ctx context.Context, addr string, m *Registry) error {
	if addr == "" {
		return nil
	}
	ln, err := Listen(addr)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, m)
}
