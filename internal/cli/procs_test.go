package cli

import "testing"

func TestDaemonProcs(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want int
	}{
		{nil, 1},
		{map[string]string{"GOMAXPROCS": "4"}, 0}, // the operator's, read by the runtime
		{map[string]string{"GOGC": "200"}, 1},
	} {
		if got := DaemonProcs(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("DaemonProcs(%v) = %d, want %d", tc.env, got, tc.want)
		}
	}
}
