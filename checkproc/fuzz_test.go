package checkproc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/model"
)

// FuzzRequest: whatever line reaches the child, decoding it and building
// its checkers returns an error or checkers, never a panic; what it
// accepts it builds again the same from its own encoding. (The child's
// parent is lbx, but a checker process must not be the weak end.)
func FuzzRequest(f *testing.F) {
	ts := targets(f, 8080, 9090)
	good, _ := json.Marshal(request{Seq: 1, Op: opUpdate, Targets: wireTargets(ts)})
	susp, _ := json.Marshal(request{Op: opSuspend, Suspend: []model.RealID{ts[0].ID}})
	for _, s := range [][]byte{good, susp, []byte(`{"seq":1,"op":"hello"}`), []byte(`{"op":"update","targets":[{"checks":[{}]}]}`),
		[]byte(`{"op":"update","targets":[{"checks":[{"type":"http_get","urls":[{"status_codes":["5x"]}]}]}]}`), []byte(`{`), []byte(`null`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var q request
		if json.Unmarshal(line, &q) != nil {
			return
		}
		built, err := checkTargets(q.Targets)
		if err != nil {
			return
		}
		again, err := checkTargets(wireTargets(built))
		if err != nil {
			t.Fatalf("accepted %s, then refused its own encoding: %v", line, err)
		}
		if len(again) != len(built) {
			t.Fatalf("%d targets, then %d", len(built), len(again))
		}
	})
}

// FuzzHello: whatever the child answers to hello, the parent accepts it
// only when it names the parent's build exactly, refuses anything else
// with an error that says what to do, and never panics.
func FuzzHello(f *testing.F) {
	want := Build{Version: "v1", Revision: "abc", Source: "s1", Go: "go1.26"}
	same, _ := json.Marshal(message{Op: opReply, Seq: 1, Build: &want})
	for _, s := range [][]byte{same, []byte(`{"op":"reply","seq":1,"err":"unknown request \"hello\""}`),
		[]byte(`{"op":"reply","seq":1,"build":{"version":"v1","dirty":true}}`), []byte(`{"op":"reply","build":null}`), []byte(`{`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var m message
		if json.Unmarshal(line, &m) != nil {
			return
		}
		var callErr error
		if m.Err != "" {
			callErr = errors.New(m.Err)
		}
		err := checkHello("/x/lbx-check", want, m, callErr)
		if err == nil {
			if m.Build == nil || *m.Build != want || m.Err != "" {
				t.Fatalf("accepted %s", line)
			}
			return
		}
		var mm *BuildMismatchError
		if errors.As(err, &mm) && !strings.Contains(err.Error(), "install lbx and lbx-check from the same build") {
			t.Fatalf("refusal %q does not say what to do", err)
		}
	})
}
