package keepalived

import (
	"strings"
	"testing"
	"time"
)

// FuzzParse: any input gives a tree or an error, never a panic or a hang.
// The seeds in testdata/fuzz/FuzzParse run as part of `go test`.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"global_defs {\n router_id X\n}\n",
		"real_server 1.2.3.4 80 { TCP_CHECK { connect_timeout 3 } }\n",
		"$A=x \\\n y\n$A\n",
		"~SEQ(N, 1, 3) k ${N}\n~SEQx(M, 0x9, -1, 0) $M \n",
		"~LST({a,b},{1,2}) $a $b \n",
		"@h a\n@^h b\n",
		"include x.conf\ninclude {a,b}/*.conf\n",
		"a \"b # c\" ! d\n",
		"$A=$B \n$B=$A \nk $A \n",
		"{\n}\n}\n{",
		"include d0.conf\n", // an include DAG: 2^24 reads if includes cost nothing
	} {
		f.Add(s)
	}
	fs := dag(24, "! leaf\n")
	fs["inc.conf"], fs["loop.conf"] = "a {\n", "include loop.conf\n"
	f.Fuzz(func(t *testing.T, s string) {
		files := memFS{"main.conf": s}
		for k, v := range fs {
			files[k] = v
		}
		start := time.Now()
		res, err := ParseFile("main.conf", files.opts("h"))
		if time.Since(start) > 5*time.Second {
			t.Fatalf("parse took %s", time.Since(start))
		}
		if err == nil && res.Root == nil {
			t.Fatal("no tree and no error")
		}
		if err != nil && !strings.Contains(err.Error(), ": error: ") {
			t.Fatalf("error without position: %v", err)
		}
	})
}
