// Package wildconf tests lbx convert on keepalived.conf files people run:
// public repositories and the configurations kept from keepalived's issue
// tracker. manifest.json records each file's source, commit, licence and
// sha256; files under a permissive licence live in files/, the others
// (GPL, no licence) beside the project in ../shared/corpus/wild and are
// skipped, with a count, where that directory is absent. docs/corpus.md
// says how the corpus was gathered and how to regenerate the verdicts.
package wildconf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kaverdict "github.com/lbx-dev/lbx/test/wildconf/verdict"
)

// entry is one configuration: a main file and the files it includes.
type entry struct {
	Name        string `json:"name"`
	Repo        string `json:"repo"`
	Commit      string `json:"commit"`
	Licence     string `json:"licence"`
	LicenceFile string `json:"licence_file,omitempty"`
	// Store is "repo" (files/) or "shared" (../shared/corpus/wild).
	Store  string `json:"store"`
	Files  []file `json:"files"`
	Covers string `json:"covers"`
	Source string `json:"source"`
	// Interfaces the file names; the verdict's namespace holds them.
	Interfaces []string `json:"interfaces"`
	// Places maps a file (repository path) to the absolute path it had
	// where it ran, for includes that name absolute paths; all are under
	// placedDir (see placed_test.go).
	Places map[string]string `json:"places,omitempty"`
}

// file is a repository path; it is stored at STORE/REPO/PATH.
type file struct {
	Path   string `json:"path"`
	Sha256 string `json:"sha256"`
}

// permissive licences may be copied into this repository.
var permissive = map[string]bool{"MIT": true, "BSD-2-Clause": true, "BSD-3-Clause": true,
	"Apache-2.0": true, "ISC": true, "CC0-1.0": true, "Unlicense": true}

const repoStore = "files"

// repoStoreAbs is files/ as an absolute path, taken before any test
// changes directory.
var repoStoreAbs, _ = filepath.Abs(repoStore)

// sharedStore is the corpus kept outside the repository
// (kaverdict.SharedStore: ../shared/corpus/wild or $LBX_WILD_CORPUS).
func sharedStore() string { return sharedStoreAbs }

var sharedStoreAbs = kaverdict.SharedStore(filepath.Join("..", ".."))

func loadManifest(t *testing.T) []entry {
	t.Helper()
	data, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Entries []entry }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m.Entries
}

// root is the directory the entry's files are stored under.
func (e entry) root() string {
	if e.Store == "repo" {
		return repoStoreAbs
	}
	return sharedStore()
}

// main is the main file's path relative to root().
func (e entry) main() string { return filepath.Join(e.Repo, e.Files[0].Path) }

// present reports whether the entry's files are here, failing the test
// when one is here but not byte for byte what the manifest recorded
// (corpus files are never edited).
func (e entry) present(t *testing.T) bool {
	t.Helper()
	for _, f := range e.Files {
		data, err := os.ReadFile(filepath.Join(e.root(), e.Repo, f.Path))
		if err != nil {
			if e.Store == "repo" {
				t.Fatalf("%s: %v", e.Name, err)
			}
			return false
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.Sha256 {
			t.Fatalf("%s: %s has sha256 %s, manifest says %s (corpus files are copied, never edited)", e.Name, f.Path, got, f.Sha256)
		}
	}
	return true
}

// presentEntries is the manifest's entries whose files are here; it logs
// how many are absent (the shared corpus is not part of a clone).
func presentEntries(t *testing.T) []entry {
	t.Helper()
	var here []entry
	for _, e := range loadManifest(t) {
		if e.present(t) {
			here = append(here, e)
		}
	}
	if n := len(loadManifest(t)) - len(here); n > 0 {
		t.Logf("%d of the corpus's configurations are absent (not in %s); they are skipped", n, sharedStore())
	}
	return here
}

// TestWildManifest checks the record itself: enough files, one source and
// licence each, permissive ones (and only those) in the repository, and
// no file in files/ that the manifest does not name.
func TestWildManifest(t *testing.T) {
	entries := loadManifest(t)
	if len(entries) < 50 {
		t.Errorf("the corpus has %d configurations, want at least 50", len(entries))
	}
	listed := map[string]bool{}
	for _, e := range entries {
		if listed[e.Name] || e.Name != e.Repo+"/"+e.Files[0].Path {
			t.Errorf("%s: duplicate, or name is not REPO/PATH of its main file", e.Name)
		}
		listed[e.Name] = true
		if len(e.Commit) != 40 || e.Licence == "" || !strings.Contains(e.Source, e.Commit) {
			t.Errorf("%s: commit, licence or source missing", e.Name)
		}
		if want := map[bool]string{true: "repo", false: "shared"}[permissive[e.Licence]]; e.Store != want {
			t.Errorf("%s: licence %s belongs in store %q, not %q", e.Name, e.Licence, want, e.Store)
		}
		for _, f := range e.Files {
			if e.Store == "repo" {
				listed[filepath.Join(e.Repo, f.Path)] = true
			}
			if p, ok := e.Places[f.Path]; ok && !strings.HasPrefix(p, placedDir+"/") {
				t.Errorf("%s: %s is placed at %s, outside %s", e.Name, f.Path, p, placedDir)
			}
		}
		if len(e.Places) > 0 && len(e.Places) != len(e.Files) {
			t.Errorf("%s: %d of its %d files have a place; all or none must", e.Name, len(e.Places), len(e.Files))
		}
		e.present(t)
	}
	filepath.WalkDir(repoStore, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if rel, _ := filepath.Rel(repoStore, p); !listed[rel] {
				t.Errorf("%s is not in manifest.json", p)
			}
		}
		return err
	})
}
