package checkproc

import (
	"encoding/json"
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
	for _, s := range [][]byte{good, susp, []byte(`{"op":"update","targets":[{"checks":[{}]}]}`),
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
