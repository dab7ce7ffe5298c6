package modelview

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/model"
)

// BenchmarkOf10k is the view of 10,000 checked real servers, which lbx
// watch makes once per reload (under its lock, on the first status read).
func BenchmarkOf10k(b *testing.B) {
	var s strings.Builder
	s.WriteString("version: 1\nvirtual_servers:\n")
	for v := 0; v < 100; v++ {
		fmt.Fprintf(&s, "  - {address: 192.0.2.%d, port: 80, delay_loop: 5s, real_servers: [\n", v+1)
		for r := 0; r < 100; r++ {
			fmt.Fprintf(&s, "      {address: 10.1.%d.%d, checks: [{type: http_get, urls: [{path: /health}]}]},\n", v, r+1)
		}
		s.WriteString("    ]}\n")
	}
	m, err := model.Parse([]byte(s.String()), "lbx.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if v := Of(m); len(v) != 10000 {
			b.Fatalf("%d objects", len(v))
		}
	}
}
