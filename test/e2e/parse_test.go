package e2e

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		console string
		want    map[string]Result
		done    bool
	}{
		{
			name: "pass and fail with logs, kernel noise ignored",
			console: "[    1.0] kernel noise\n@@BEGIN a\n+ ipvsadm -Ln\n  = exit 0\n@@SCENARIO a PASS 3\n" +
				"[    2.0] more noise\n@@BEGIN b\nFAIL: kernel lacks: x\n@@SCENARIO b FAIL 5\n@@DONE pass=1 fail=1\n",
			want: map[string]Result{
				"a": {Pass: true, Seconds: 3, Log: "+ ipvsadm -Ln\n  = exit 0"},
				"b": {Pass: false, Seconds: 5, Log: "FAIL: kernel lacks: x"},
			},
			done: true,
		},
		{
			name:    "VM died mid-scenario: no result, not done",
			console: "@@BEGIN a\n+ lbx apply\n[ 9.0] Kernel panic\n",
			want:    map[string]Result{},
		},
		{
			name:    "result without BEGIN has no log; malformed line ignored",
			console: "@@SCENARIO x PASS\n@@SCENARIO\n@@DONE\n",
			want:    map[string]Result{"x": {Pass: true}},
			done:    true,
		},
		{
			name:    "only an exact PASS passes",
			console: "@@BEGIN a\n@@SCENARIO a pass 1\n",
			want:    map[string]Result{"a": {Pass: false, Seconds: 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.console)
			if got.Done != tc.done {
				t.Errorf("Done = %v, want %v", got.Done, tc.done)
			}
			if len(got.Scenarios) != len(tc.want) {
				t.Errorf("got %d scenarios %v, want %d", len(got.Scenarios), got.Scenarios, len(tc.want))
			}
			for n, w := range tc.want {
				if g := got.Scenarios[n]; g != w {
					t.Errorf("scenario %s = %+v, want %+v", n, g, w)
				}
			}
		})
	}
}
