package model

import (
	"fmt"
	"strings"
	"testing"
)

// bigModel is the bench's shape: 2,000 services x 5 real servers.
func bigModel() []byte { return modelOf(2000) }

// modelOf is n services x 5 real servers.
func modelOf(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nvirtual_servers:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - address: 10.%d.%d.1\n    port: 80\n    protocol: tcp\n    scheduler: wlc\n    forwarding: nat\n    real_servers:\n", (i>>8)&255, i&255)
		for j := 0; j < 5; j++ {
			fmt.Fprintf(&b, "      - {address: 192.168.%d.%d, port: 8080, weight: %d}\n", i%250, j+10, j+1)
		}
	}
	return []byte(b.String())
}

// BenchmarkParseBig: loading (decode + validate) the 2,000 x 5 model that
// make bench plans against, through the fast YAML front end and through
// yaml.v3 (a tab in a leading comment makes the fast path decline; the
// model is the same).
func BenchmarkParseBig(b *testing.B) {
	for _, bc := range []struct {
		name string
		data []byte
	}{
		{"fast", bigModel()},
		{"yamlv3", append([]byte("#\tyaml.v3\n"), bigModel()...)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(bc.data, "big.yaml"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseScale: loading 2,000 and 20,000 services x 5 real
// servers; ns/op must grow tenfold, not more (issue 27 item 4).
func BenchmarkParseScale(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		data := modelOf(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Parse(data, "big.yaml"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeTree: the YAML tree alone, fast front end vs yaml.v3.
func BenchmarkDecodeTree(b *testing.B) {
	data := bigModel()
	src := string(data)
	if _, _, ok := fastYAML(src); !ok {
		b.Fatal("fast path declined the big model")
	}
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			fastYAML(src)
		}
	})
	b.Run("yamlv3", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := yamlv3Tree(src, "big.yaml"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompileBig: compiling it to the desired state.
func BenchmarkCompileBig(b *testing.B) {
	m, err := Parse(bigModel(), "big.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Compile(m, Facts{})
	}
}
