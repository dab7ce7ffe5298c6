package wildconf

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/convert"
	"github.com/lbx-dev/lbx/model"
)

// knownFailure is a file keepalived accepts that lbx refuses today because
// of a defect class (issue 25) still being fixed: the class, where lbx's
// first error is (file:line, the file relative to the main file's
// directory) and how many errors there are. The test fails when such a
// file converts (take it off the list) or fails otherwise (the failure
// changed: its message prints the new entry).
type knownFailure struct {
	class  string
	first  string
	errors int
}

// known is empty: every file keepalived accepts converts.
var known = map[string]knownFailure{}

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
			case v.Accepted():
				failing++
			}
		})
	}
	t.Logf("%d files converted and validated; %d that keepalived accepts are refused (known defect classes)", converted, failing)
}

// checkConversion converts one entry and reports whether it converted.
func checkConversion(t *testing.T, e entry, v verdict) bool {
	tree, path := placeTree(t, e), e.configPath()
	if tree == "" {
		t.Chdir(e.root()) // diagnostics name REPO/PATH, as the manifest
		path = e.main()
	}
	res, err := convert.File(path, convert.Options{Parse: parseOptions(tree)})
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	checkPositions(t, e, res)
	kf, isKnown := known[e.Name]
	switch {
	case !v.Accepted():
		if err == nil {
			t.Errorf("keepalived refuses this file (exit %d: %s), lbx converts it", v.Exit, lastMessage(v))
		}
		return false
	case isKnown && err == nil:
		t.Errorf("converts now: take it off the known failures (%s)", kf.class)
	case isKnown:
		if first, n := firstError(e, res); first != kf.first || n != kf.errors {
			t.Errorf("fails differently than recorded (%s), now:\n%s\n%s", kf.class, knownRow(e, "CLASS", first, n), diagText(res))
		}
		return false
	case err != nil:
		first, n := firstError(e, res)
		t.Errorf("keepalived accepts it (exit %d), lbx refuses it: %v\n%s\nwhile its defect class is being fixed, list it in known:\n%s", v.Exit, err, diagText(res), knownRow(e, "CLASS", first, n))
		return false
	}
	out, err := res.YAML(e.Name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Parse(out, e.Name+".yaml")
	if err != nil {
		t.Errorf("the converted model does not validate: %v\n%s", err, out)
		return false
	}
	if len(m.VirtualServers)+len(m.VRRPInstances) == 0 {
		t.Errorf("nothing converted (an include lost?):\n%s", out)
	}
	t.Logf("%d virtual servers, %d VRRP instances", len(m.VirtualServers), len(m.VRRPInstances))
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
	if rel, ok := e.unplace(name); ok {
		return rel
	}
	if filepath.IsAbs(name) {
		real, _ := filepath.EvalSymlinks(e.root())
		if rel, err := filepath.Rel(real, name); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
		name, _ = filepath.Rel(e.root(), name)
	}
	return filepath.Clean(name)
}

// firstError is where lbx's first error is, "file:line" with the file
// relative to the main file's directory, and how many errors there are.
func firstError(e entry, res *convert.Result) (string, int) {
	first, n := "", 0
	for _, d := range res.Diagnostics {
		if d.Severity == convert.Error {
			if n++; n == 1 {
				name, _ := filepath.Rel(filepath.Dir(e.main()), relName(e, d.Pos.File))
				first = fmt.Sprintf("%s:%d", name, d.Pos.Line)
			}
		}
	}
	return first, n
}

// knownRow is the entry of known for the file, as Go source.
func knownRow(e entry, class, first string, n int) string {
	return fmt.Sprintf("\t%q: {%s, %q, %d},", e.Name, class, first, n)
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
