package wildconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/keepalived"
)

// placedDir holds the files of configurations whose includes name
// absolute paths (include /etc/keepalived/conf.d/*.conf). keepalived reads
// them there through a bind mount in its own mount namespace (ip netns
// exec's), lbx through Options.ReadFile and Glob: the host's directory is
// never touched.
const placedDir = "/etc/keepalived"

// placeTree copies the entry's files to their places under a fresh
// directory and returns the directory that stands for placedDir ("" when
// the entry has no places).
func placeTree(t *testing.T, e entry) string {
	t.Helper()
	if len(e.Places) == 0 {
		return ""
	}
	if _, err := os.Stat(placedDir); err != nil {
		skip(t, placedDir+" is missing (the keepalived package makes it), the bind mount needs it")
	}
	tree := filepath.Join(t.TempDir(), "placed")
	for _, f := range e.Files {
		data, err := os.ReadFile(filepath.Join(e.root(), e.Repo, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(tree, strings.TrimPrefix(e.Places[f.Path], placedDir))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

// configPath is the main file as keepalived and lbx are given it.
func (e entry) configPath() string {
	if p, ok := e.Places[e.Files[0].Path]; ok {
		return p
	}
	return filepath.Join(e.root(), e.main())
}

// bindPlaced is the shell command that puts the tree at placedDir, "" when
// there is none.
func bindPlaced(mount, tree string) string {
	if tree == "" {
		return ""
	}
	return mount + " --bind " + tree + " " + placedDir + " || exit 96; "
}

// parseOptions are lbx's parse options for the entry: placed paths are
// read from the tree, and globs over them answer with placed paths.
func parseOptions(tree string) keepalived.Options {
	opt := keepalived.Options{ConfigID: configID}
	if tree == "" {
		return opt
	}
	inTree := func(p string) string {
		if rest, ok := strings.CutPrefix(p, placedDir+"/"); ok {
			return filepath.Join(tree, rest)
		}
		return p
	}
	opt.ReadFile = func(name string) ([]byte, error) { return os.ReadFile(inTree(name)) }
	opt.Glob = func(pattern string) ([]string, error) {
		matches, err := filepath.Glob(inTree(pattern))
		for i, m := range matches {
			if rest, ok := strings.CutPrefix(m, tree+"/"); ok {
				matches[i] = filepath.Join(placedDir, rest)
			}
		}
		return matches, err
	}
	return opt
}

// unplace names a placed path by its repository path, as the manifest.
func (e entry) unplace(name string) (string, bool) {
	for f, p := range e.Places {
		if p == name {
			return filepath.Join(e.Repo, f), true
		}
	}
	return "", false
}
