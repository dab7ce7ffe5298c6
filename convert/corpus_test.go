package convert

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// corpusDir is keepalived's doc/samples, kept outside the repository (GPL
// test data): ../shared/corpus/keepalived-samples relative to the repo root.
func corpusDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpus", "keepalived-samples"))
	if err == nil {
		if _, err = os.Stat(filepath.Join(dir, "README.md")); err == nil {
			return dir
		}
	}
	// The corpus is GPL test data kept beside the project, not in it: a
	// clone without it skips, also in CI (the project's own cases and
	// golden files still run).
	testkit.Skip(t, "keepalived sample corpus not found at "+dir)
	return ""
}

// TestCorpus converts every keepalived sample. The ones the corpus README
// documents as invalid must be refused with a file:line error for that
// reason; every other one must convert to a model that validates.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	refused := map[string]string{
		// README: "contains the invalid address 192.168.100./24".
		"keepalived.conf.vrrp.rules": "keepalived.conf.vrrp.rules:11: error: \"192.168.100./24\" is not a valid IP address or prefix",
	}
	// Files that are not keepalived.conf (README: systemd drop-in, shell).
	skip := map[string]bool{"keepalived.service.d.auth_hmac.conf": true}
	files, _ := filepath.Glob(filepath.Join(dir, "keepalived.conf*"))
	files = append(files, filepath.Join(dir, "extra/keepalived/etc/keepalived/keepalived.conf"), filepath.Join(dir, "extra/docker/keepalived.conf"))
	if len(files) < 25 {
		t.Fatalf("found only %d sample files in %s", len(files), dir)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		if skip[rel] {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			wd, _ := os.Getwd()
			if err := os.Chdir(dir); err != nil {
				t.Fatal(err)
			}
			defer os.Chdir(wd)
			res, err := File(rel, Options{Parse: keepalived.Options{ConfigID: "lbxtest"}})
			if want, ok := refused[rel]; ok {
				if err == nil {
					t.Fatalf("converted; want refusal with %q", want)
				}
				if d := diagText(res); !strings.Contains(d, want) {
					t.Fatalf("diagnostics lack %q:\n%s", want, d)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, diagText(res))
			}
			for _, d := range res.Diagnostics {
				if !strings.HasPrefix(d.Pos.String(), rel+":") {
					t.Errorf("diagnostic without file:line: %s", d)
				}
			}
			out, err := res.YAML(rel)
			if err != nil {
				t.Fatal(err)
			}
			m, err := model.Parse(out, rel+".yaml")
			if err != nil {
				t.Fatalf("output does not validate: %v\n%s", err, out)
			}
			if len(m.VirtualServers)+len(m.VRRPInstances) == 0 {
				t.Errorf("nothing converted:\n%s", out)
			}
		})
	}
	// conditional_conf converts once its config id is given, as keepalived -i.
	for _, id := range []string{"high", "low"} {
		t.Run("conditional_conf -i "+id, func(t *testing.T) {
			res, err := File(filepath.Join(dir, "keepalived.conf.conditional_conf"), Options{Parse: keepalived.Options{ConfigID: id}})
			if err != nil {
				t.Fatalf("%v\n%s", err, diagText(res))
			}
			out, _ := res.YAML("conditional_conf")
			m, err := model.Parse(out, "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"high": 170, "low": 85}[id]
			if got := *m.VRRPInstances[0].Priority; got != want {
				t.Errorf("priority with -i %s = %d, want %d", id, got, want)
			}
		})
	}
}

// TestGolden converts testdata/golden/*.conf and compares with the .yaml
// and .stderr next to them. go test ./convert -run Golden -update rewrites.
func TestGolden(t *testing.T) {
	confs, _ := filepath.Glob("testdata/golden/*.conf")
	if len(confs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, conf := range confs {
		t.Run(filepath.Base(conf), func(t *testing.T) {
			res, err := File(conf, Options{Parse: keepalived.Options{ConfigID: "main"}})
			var got []byte
			if err == nil {
				got, err = res.YAML(filepath.Base(conf))
				if err != nil {
					t.Fatal(err)
				}
				if _, verr := model.Parse(got, "golden.yaml"); verr != nil {
					t.Fatalf("golden output does not validate: %v", verr)
				}
			}
			stderr := []byte(diagText(res))
			base := strings.TrimSuffix(conf, ".conf")
			if *update {
				os.WriteFile(base+".yaml", got, 0o644)
				os.WriteFile(base+".stderr", stderr, 0o644)
				return
			}
			wantY, _ := os.ReadFile(base + ".yaml")
			wantE, _ := os.ReadFile(base + ".stderr")
			if string(got) != string(wantY) {
				t.Errorf("YAML differs from %s.yaml (run with -update after checking):\n%s", base, got)
			}
			if string(stderr) != string(wantE) {
				t.Errorf("diagnostics differ from %s.stderr:\n%s", base, stderr)
			}
		})
	}
}
