package bgpspeaker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// request is one line from lbx watch to lbx-bgp. The first is always
// "start" (with Config); "stop" is the last.
type request struct {
	Op       string        `json:"op"` // start, configure, paths, peers, stop
	Config   *Config       `json:"config,omitempty"`
	Paths    []Path        `json:"paths,omitempty"`
	Graceful time.Duration `json:"graceful,omitempty"`
}

// reply is lbx-bgp's answer to one request.
type reply struct {
	Reset []netip.Addr `json:"reset,omitempty"`
	Peers []PeerStatus `json:"peers,omitempty"`
	Error string       `json:"error,omitempty"`
}

// maxLine bounds one message (a model's peers and paths).
const maxLine = 16 << 20

// Serve is lbx-bgp's loop: it reads requests from r, runs them on the
// speaker that start makes from the first, and answers on w, until stop
// or the end of r (lbx watch gone: the speaker stops, withdrawing).
func Serve(r io.Reader, w io.Writer, start func(context.Context, Config) (Speaker, error)) error {
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 64<<10), maxLine)
	enc := json.NewEncoder(w)
	ctx := context.Background()
	var spk Speaker
	for in.Scan() {
		var req request
		var rep reply
		var err error
		if err = json.Unmarshal(in.Bytes(), &req); err != nil {
			return fmt.Errorf("bad request: %w", err)
		}
		switch {
		case req.Op == "start" && spk == nil && req.Config != nil:
			spk, err = start(ctx, *req.Config)
		case spk == nil:
			err = fmt.Errorf("%q before a start", req.Op)
		case req.Op == "configure" && req.Config != nil:
			rep.Reset, err = spk.Configure(ctx, *req.Config)
		case req.Op == "paths":
			err = spk.SetPaths(ctx, req.Paths)
		case req.Op == "peers":
			rep.Peers = spk.Peers(ctx)
		case req.Op == "stop":
			err = spk.Stop(ctx, req.Graceful)
		default:
			err = fmt.Errorf("unknown request %q", req.Op)
		}
		if err != nil {
			rep.Error = err.Error()
		}
		if err := enc.Encode(rep); err != nil {
			return err
		}
		if req.Op == "stop" {
			return nil
		}
	}
	if spk != nil {
		spk.Stop(ctx, 0)
	}
	if err := in.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
