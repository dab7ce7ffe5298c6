package verdict

import "testing"

func TestAccepted(t *testing.T) {
	tests := []struct {
		name string
		v    Verdict
		want bool
	}{
		{"clean", Verdict{Exit: 0}, true},
		{"corrected", Verdict{Exit: 5, Messages: []string{"(Line 3) number '0' outside range"}}, true},
		{"scripts disabled", Verdict{Exit: 6}, true},
		{"permanent error", Verdict{Exit: 2}, false},
		{"config test exit 4", Verdict{Exit: 4}, false},
		{"virtual router id 0", Verdict{Exit: 5, Messages: []string{"(VI_1) the virtual router id must be set"}}, false},
		{"VRRPv3 without VIP", Verdict{Exit: 5, Messages: []string{"(VI_1) No VIP specified; at least one is required"}}, false},
		{"VRRPv2 without VIP", Verdict{Exit: 5, Messages: []string{"(VI_1) No VIP specified; at least one is sensible"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Accepted(); got != tt.want {
				t.Errorf("Accepted() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSharedStore(t *testing.T) {
	t.Setenv("LBX_WILD_CORPUS", "")
	if got := SharedStore("/p/main"); got != "/p/shared/corpus/wild" {
		t.Errorf("SharedStore = %q, want /p/shared/corpus/wild", got)
	}
	t.Setenv("LBX_WILD_CORPUS", "/elsewhere/wild")
	if got := SharedStore("/p/main"); got != "/elsewhere/wild" {
		t.Errorf("SharedStore with LBX_WILD_CORPUS = %q", got)
	}
}
