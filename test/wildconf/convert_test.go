package wildconf

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/convert"
	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

// knownFailure is a file keepalived accepts that lbx refuses today because
// of a defect class (issue 25) still being fixed: the class, and where
// lbx's errors are (file:line, relative to the main file's directory).
// The test fails when such a file converts (take it off the list) or
// fails at other places (the failure changed).
type knownFailure struct {
	class  string
	errors []string
}

// Classes of the files on the list: issue 25 names the first, this corpus
// found the others.
const (
	families   = "mixed families keepalived accepts"
	braces     = "a block left open at the end of a file (keepalived: \"There are 1 missing '}'s\", and runs)"
	emptyCheck = "empty checker blocks (MISC_CHECK {}, SSL_GET {}) that keepalived drops"
	bytesText  = "text that is not UTF-8 (Shift-JIS comments); keepalived reads bytes"
	defines    = "chained $definitions where ${_HASH} makes a line a comment in keepalived"
)

var known = map[string]knownFailure{
	"iqiyi/dpvs/doc/containerized/keepalived.conf":                   {families + ": IPv4 real servers of an IPv6 service, not tunnelled (DPVS's NAT64 with FNAT, which keepalived runs as NAT)", []string{"keepalived.conf:106", "keepalived.conf:86", "keepalived.conf:96"}},
	"vincentbernat/network-lab/lab-keepalived-snmp/keepalived.conf":  {families + ": IPv6 VIPs in an IPv4 instance (keepalived ignores them)", []string{"keepalived.conf:17", "keepalived.conf:19"}},
	"zhangguanzhang/docker-compose/keepalived/conf/keepalived.conf":  {braces, []string{"keepalived.conf:52"}},
	"gasparesiclari/mysql_keepalived/etc/keepalived.conf":            {braces, []string{"keepalived.conf:49"}},
	"pqarmitage/keepalived-devel-tools/configs/1446/keepalived.conf": {braces + " (an included file)", []string{"conf.d/anon22.conf:73"}},
	"shidg/note/keepalived/keepalived.conf":                          {emptyCheck, []string{"keepalived.conf:53", "keepalived.conf:68"}},
	"pqarmitage/keepalived-devel-tools/configs/1715.conf":            {bytesText, []string{"1715.conf:143", "1715.conf:250", "1715.conf:261", "1715.conf:334", "1715.conf:345", "1715.conf:452", "1715.conf:463", "1715.conf:49", "1715.conf:536", "1715.conf:547", "1715.conf:60", "1715.conf:685", "1715.conf:696", "1715.conf:769", "1715.conf:780", "1715.conf:855", "1715.conf:866", "1715.conf:939", "1715.conf:950"}},
	"pqarmitage/keepalived-devel-tools/configs/check_align.conf":     {defines, []string{"check_align.conf:1091", "check_align.conf:922"}},
}

// TestWildConvert converts every file here as `lbx convert` does: each file
// keepalived accepts must convert without error to a model that passes
// the model's validation, and every diagnostic must name file:line.
func TestWildConvert(t *testing.T) {
	verdicts := loadVerdicts(t)
	var converted, failing int
	for _, e := range presentEntries(t) {
		v, ok := verdicts[e.Name]
		if !ok {
			t.Errorf("%s: no keepalived verdict in %s (run TestWildVerdicts with -update)", e.Name, verdictFile)
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			switch ok := checkConversion(t, e, v); {
			case ok:
				converted++
			case v.accepted():
				failing++
			}
		})
	}
	t.Logf("%d files converted and validated; %d that keepalived accepts are refused (known defect classes)", converted, failing)
}

// checkConversion converts one entry and reports whether it converted.
func checkConversion(t *testing.T, e entry, v verdict) bool {
	t.Chdir(e.root())
	res, err := convert.File(e.main(), convert.Options{Parse: keepalived.Options{ConfigID: configID}})
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	checkPositions(t, e, res)
	kf, isKnown := known[e.Name]
	switch {
	case !v.accepted():
		if err == nil {
			t.Errorf("keepalived refuses this file (exit %d: %s), lbx converts it", v.Exit, lastMessage(v))
		}
		return false
	case isKnown && err == nil:
		t.Errorf("converts now: take it off the known failures (%s)", kf.class)
	case isKnown:
		if got := errorPositions(e, res); !slices.Equal(got, kf.errors) {
			t.Errorf("fails differently than recorded (%s): errors at %v, recorded %v\n%s", kf.class, got, kf.errors, diagText(res))
		}
		return false
	case err != nil:
		t.Errorf("keepalived accepts it (exit %d), lbx refuses it: %v\n%s", v.Exit, err, diagText(res))
		return false
	}
	out, err := res.YAML(e.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Parse(out, e.Name+".yaml"); err != nil {
		t.Errorf("the converted model does not validate: %v\n%s", err, out)
	}
	return true
}

// checkPositions: every diagnostic names a line of one of the entry's files.
func checkPositions(t *testing.T, e entry, res *convert.Result) {
	t.Helper()
	for _, d := range res.Diagnostics {
		name := relName(e, d.Pos.File)
		if d.Pos.Line <= 0 || !slices.ContainsFunc(e.Files, func(f file) bool { return filepath.Join(e.Repo, f.Path) == name }) {
			t.Errorf("diagnostic without a file:line of this configuration: %s", d)
		}
	}
}

// relName is a diagnostic's file relative to the store, as the manifest
// names it (an include found through ${_PWD} is absolute).
func relName(e entry, name string) string {
	if filepath.IsAbs(name) {
		name, _ = filepath.Rel(e.root(), name)
	}
	return filepath.Clean(name)
}

// errorPositions lists the places of lbx's errors, "file:line" with the
// file relative to the main file's directory, sorted, each once.
func errorPositions(e entry, res *convert.Result) []string {
	var ps []string
	for _, d := range res.Diagnostics {
		if d.Severity == convert.Error {
			name, _ := filepath.Rel(filepath.Dir(e.main()), relName(e, d.Pos.File))
			ps = append(ps, fmt.Sprintf("%s:%d", name, d.Pos.Line))
		}
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

func diagText(res *convert.Result) string {
	var b strings.Builder
	for _, d := range res.Diagnostics {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func lastMessage(v verdict) string {
	if len(v.Messages) == 0 {
		return ""
	}
	return v.Messages[len(v.Messages)-1]
}
