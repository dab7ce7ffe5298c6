package model

import "testing"

// TestPositionsAfterLoad: a loaded model keeps its source, not its tree,
// and still finds where each path was written (the tree built again on
// the first lookup), through either YAML front end.
func TestPositionsAfterLoad(t *testing.T) {
	const body = "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - {address: 10.1.0.1, port: 8080}\n"
	for _, tc := range []struct {
		name, prefix string
		line0        int
	}{
		{"fast", "", 0},
		{"yaml.v3", "#\tyaml.v3 reads this tab; the fast path declines\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.prefix+body), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if m.Positions.root != nil {
				t.Fatal("the loaded model kept its YAML tree")
			}
			for path, want := range map[string]Pos{
				"virtual_servers[0].port":                      {4, 11},
				"virtual_servers[0].real_servers[0].port":      {6, 35},
				"virtual_servers[0].real_servers[0]":           {6, 9},
				"virtual_servers[0].real_servers[0].no_such_x": {6, 9},
				"virtual_servers[3]":                           {3, 3},
			} {
				want.Line += tc.line0
				if got := m.Positions.At(path); got != want {
					t.Errorf("At(%s) = %v, want %v", path, got, want)
				}
			}
		})
	}
}
