package convert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

// TestParityConfigs: the parity configs convert cleanly to valid models, and
// the VM scenario test/e2e/scenarios/parity_convert.sh embeds each of them
// verbatim (the VM only receives scenario files).
func TestParityConfigs(t *testing.T) {
	confs, _ := filepath.Glob("testdata/parity/*.conf")
	if len(confs) < 7 {
		t.Fatalf("only %d parity configs", len(confs))
	}
	script, err := os.ReadFile("../test/e2e/scenarios/parity_convert.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, conf := range confs {
		t.Run(filepath.Base(conf), func(t *testing.T) {
			text, _ := os.ReadFile(conf)
			name := strings.TrimSuffix(filepath.Base(conf), ".conf")
			if !strings.Contains(string(script), "parity "+name+" <<'KEEPALIVED'\n"+string(text)+"KEEPALIVED\n") {
				t.Errorf("parity_convert.sh does not embed %s verbatim; regenerate it", conf)
			}
			res, err := File(conf, Options{Parse: keepalived.Options{ConfigID: "x"}})
			if err != nil {
				t.Fatalf("%v\n%s", err, diagText(res))
			}
			out, _ := res.YAML(conf)
			if _, err := model.Parse(out, conf+".yaml"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
