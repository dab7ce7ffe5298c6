package checkproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/model"
)

// Serve is the child's side: it runs a check.Runner on the requests read
// from conn and writes replies and transitions to it, until conn ends (the
// parent closed it or died: the kernel closes a dead parent's end, so the
// child never outlives lbx watch) or ctx is cancelled. A malformed request
// ends it with an error; a request the runner refuses gets the error in
// its reply.
func Serve(ctx context.Context, conn io.ReadWriter, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
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
	dec := json.NewDecoder(conn)
	for ctx.Err() == nil {
		var q request
		if err := dec.Decode(&q); err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("checker process: reading a request: %w", err)
		}
		reply := message{Op: opReply, Seq: q.Seq}
		switch q.Op {
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
	}
	return nil
}

func suspendSet(ids []model.RealID) map[model.RealID]bool {
	m := make(map[model.RealID]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
