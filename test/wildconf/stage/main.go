// Command stage copies the wild keepalived.conf corpus (test/wildconf) to a
// directory the e2e VM receives (test/e2e/vm.sh puts it at /e2e/wild), for
// the parity-wild scenario: every configuration that keepalived 2.2.7
// accepts (testdata/verdicts.json) and that declares a virtual server.
// The VM only receives files, so the selection is made here.
//
//	go run ./test/wildconf/stage OUTDIR
//
// OUTDIR/index has one line per configuration, tab-separated: its name,
// the main file's path in the guest, the tree to copy to /etc/keepalived
// ("-" when none: includes that name absolute paths, the manifest's
// places) and the interfaces it names (comma-separated). OUTDIR/vrrp-sync
// has the same lines for the accepted configurations with VRRP instances
// and lvs_sync_daemon, whose VRRP process needs IPVS (the
// parity-wild-vrrp scenario; TestWildVRRP skips them). OUTDIR/skipped
// holds how many configurations were left out because the shared store
// (../shared/corpus/wild, GPL and unlicensed files) is absent.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	kaverdict "github.com/lbx-dev/lbx/test/wildconf/verdict"
)

// entry is what stage reads of a manifest entry (test/wildconf's entry has
// the full record and its meaning).
type entry struct {
	Name  string `json:"name"`
	Repo  string `json:"repo"`
	Store string `json:"store"`
	Files []struct {
		Path string `json:"path"`
	} `json:"files"`
	Interfaces []string          `json:"interfaces"`
	Places     map[string]string `json:"places"`
}

// guestRoot is where vm.sh puts OUTDIR in the guest.
const guestRoot = "/e2e/wild"

// placedDir is where includes with absolute paths look (as test/wildconf).
const placedDir = "/etc/keepalived"

var (
	virtualServer = regexp.MustCompile(`(?m)^[ \t]*virtual_server[ \t]`)
	vrrpInstance  = regexp.MustCompile(`(?m)^[ \t]*vrrp_instance[ \t]`)
	syncDaemon    = regexp.MustCompile(`(?m)^[ \t]*lvs_sync_daemon(_interface)?[ \t]`)
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stage OUTDIR")
		os.Exit(2)
	}
	if err := stage(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "stage:", err)
		os.Exit(1)
	}
}

func stage(out string) error {
	here, err := wildDir()
	if err != nil {
		return err
	}
	var m struct{ Entries []entry }
	var verdicts map[string]kaverdict.Verdict
	if err := readJSON(filepath.Join(here, "manifest.json"), &m); err != nil {
		return err
	}
	if err := readJSON(filepath.Join(here, "testdata", "verdicts.json"), &verdicts); err != nil {
		return err
	}
	stores := map[string]string{"repo": filepath.Join(here, "files"),
		"shared": kaverdict.SharedStore(filepath.Join(here, "..", ".."))}
	var index, vrrpSync strings.Builder
	skipped := 0
	for i, e := range m.Entries {
		// see docs/corpus.md.
		if v, ok := verdicts[e.Name]; !ok || !v.Accepted() {
			continue
		}
		src := filepath.Join(stores[e.Store], e.Repo)
		if _, err := os.Stat(filepath.Join(src, e.Files[0].Path)); err != nil {
			skipped++
			continue
		}
		line, has, err := stageEntry(out, fmt.Sprintf("placed/%d", i), src, e)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		if has(virtualServer) {
			index.WriteString(line)
		}
		if has(vrrpInstance) && has(syncDaemon) {
			vrrpSync.WriteString(line)
		}
	}
	for name, b := range map[string]*strings.Builder{"index": &index, "vrrp-sync": &vrrpSync} {
		if err := os.WriteFile(filepath.Join(out, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(out, "skipped"), []byte(fmt.Sprintln(skipped)), 0o644)
}

// stageEntry copies one configuration's files and returns its index line
// and whether any of its files matches a pattern.
func stageEntry(out, placed, src string, e entry) (string, func(*regexp.Regexp) bool, error) {
	var all [][]byte
	has := func(re *regexp.Regexp) bool { return slices.ContainsFunc(all, re.Match) }
	for _, f := range e.Files {
		data, err := os.ReadFile(filepath.Join(src, f.Path))
		if err != nil {
			return "", nil, err
		}
		all = append(all, data)
		dst := filepath.Join(out, "store", e.Repo, f.Path)
		if p, ok := e.Places[f.Path]; ok {
			dst = filepath.Join(out, placed, strings.TrimPrefix(p, placedDir))
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return "", nil, err
		}
	}
	main, tree := filepath.Join(guestRoot, "store", e.Repo, e.Files[0].Path), "-"
	if p, ok := e.Places[e.Files[0].Path]; ok {
		main, tree = p, filepath.Join(guestRoot, placed)
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\n", e.Name, main, tree, strings.Join(e.Interfaces, ",")), has, nil
}

// wildDir is test/wildconf, found from the working directory (the
// repository's root, as vm.sh runs it, or test/wildconf itself).
func wildDir() (string, error) {
	for _, d := range []string{"test/wildconf", "."} {
		if _, err := os.Stat(filepath.Join(d, "manifest.json")); err == nil {
			return filepath.Abs(d)
		}
	}
	return "", fmt.Errorf("run from the repository's root: test/wildconf/manifest.json not found")
}

func readJSON(name string, v any) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
