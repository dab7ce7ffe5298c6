package ops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/paths"
)

// TestNetnsTypo is issue 26 item 9: --netns NAME that names no namespace
// is an error naming it — never the host's lock, status socket or
// ownership record — while a real namespace gets paths of its own.
func TestNetnsTypo(t *testing.T) {
	nstest.Require(t)
	real := nstest.New(t, nstest.Unique("lo"))
	tests := []struct {
		name, netns string
		wantErr     bool
	}{
		{"the namespace lbx runs in", "", false},
		{"a namespace of /run/netns", real.Name, false},
		{"a name no namespace has", fmt.Sprintf("lbx-typo-%d", os.Getpid()), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tg := Target{Netns: tc.netns, RunDir: dir, StateDir: dir}
			l, err := Lock(context.Background(), tg, 0)
			if l != nil {
				defer l.Release()
			}
			sock, serr := paths.StatusSocket(dir, tc.netns)
			_, oerr := tg.owner()
			if !tc.wantErr {
				if err != nil || serr != nil || oerr != nil {
					t.Fatalf("lock: %v; socket: %v; record: %v", err, serr, oerr)
				}
				if host := filepath.Join(dir, "lbx.sock"); tc.netns != "" && sock == host {
					t.Errorf("namespace %s has the host's socket %s", tc.netns, sock)
				}
				return
			}
			for what, err := range map[string]error{"lock": err, "status socket": serr, "ownership record": oerr} {
				if err == nil || !strings.Contains(err.Error(), tc.netns) {
					t.Errorf("%s: %v; want an error naming %s", what, err, tc.netns)
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) > 0 {
				t.Errorf("files made for a namespace that does not exist: %v", ents)
			}
		})
	}
}
