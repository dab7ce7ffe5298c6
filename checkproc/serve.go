package checkproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkspec"
)

// ServeOptions tune Serve; the zero value is valid.
type ServeOptions struct {
	Logger *slog.Logger // nil: slog.Default()
	// Applied, if set, runs after each update has been applied and
	// answered: the checks' live data changes only then (lbx-check
	// retunes its memory limit there).
	Applied func()
	// Build is what the hello request is answered with; zero:
	// ThisBuild("").
	Build Build
}

// Serve is the child's side: it runs a check.Runner on the requests read
// from conn and writes replies and transitions to it, until conn ends (the
// parent closed it or died: the kernel closes a dead parent's end, so the
// child never outlives lbx watch) or ctx is cancelled. A malformed request
// ends it with an error; a request the runner refuses gets the error in
// its reply.
func Serve(ctx context.Context, conn io.ReadWriter, opts ServeOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Build == (Build{}) {
		opts.Build = ThisBuild("")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wmu sync.Mutex
	enc := json.NewEncoder(conn)
	var werr error
	send := func(m message) {
		wmu.Lock()
		defer wmu.Unlock()
		if werr != nil {
			return
		}
		if werr = enc.Encode(m); werr != nil {
			// The parent is gone: the read side ends too.
			cancel()
		}
	}
	r := check.New(check.Options{Logger: log})
	started := false
	defer func() {
		if started {
			r.Stop()
		}
	}()
	// One request a line, each line read into its own slice: a
	// json.Decoder would keep a buffer the size of the largest request
	// (an update of every check, 0.5 MB for 500) for good.
	in := bufio.NewReader(conn)
	for ctx.Err() == nil {
		line, err := in.ReadBytes('\n')
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) && len(line) > 0:
			// The last request, without its newline: served; the next
			// read ends the loop.
		case errors.Is(err, io.EOF) || ctx.Err() != nil:
			return nil
		default:
			return fmt.Errorf("checker process: reading a request: %w", err)
		}
		var q request
		if err := json.Unmarshal(line, &q); err != nil {
			return fmt.Errorf("checker process: reading a request: %w", err)
		}
		reply := message{Op: opReply, Seq: q.Seq}
		switch q.Op {
		case opHello:
			reply.Build = &opts.Build
		case opUpdate:
			// The suspend set, if given, holds from the first probe.
			if q.Suspend != nil {
				r.Suspend(suspendSet(q.Suspend))
			}
			targets, err := checkTargets(q.Targets)
			if err == nil && !started {
				err = r.Start(ctx, targets, func(ts []check.Transition) {
					send(message{Op: opReport, Transitions: ts})
				})
				started = err == nil
			} else if err == nil {
				err = r.Update(targets)
			}
			if err != nil {
				reply.Err = err.Error()
			} else {
				reply.Health = healthList(r.Health())
			}
		case opSuspend:
			r.Suspend(suspendSet(q.Suspend))
		case opHealth:
			reply.Health = healthList(r.Health())
		case opStats:
			reply.Stats = r.Stats()
		default:
			reply.Err = fmt.Sprintf("unknown request %q", q.Op)
		}
		if q.Seq != 0 {
			send(reply)
		}
		if q.Op == opUpdate && opts.Applied != nil {
			opts.Applied()
		}
	}
	return nil
}

func suspendSet(ids []checkspec.RealID) map[checkspec.RealID]bool {
	m := make(map[checkspec.RealID]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
