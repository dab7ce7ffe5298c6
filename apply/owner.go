package apply

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// OwnerRecord is lbx's ownership record: the services and addresses it
// created, so that removing one from the model deletes it while objects lbx
// never made (kube-proxy's, Docker's, hand-made) are left alone. The kernel
// has no owner field for IPVS services, hence a file, like Terraform's
// state. One record per network namespace.
type OwnerRecord struct {
	path string
	mu   sync.Mutex
	doc  ownerDoc
}

type ownerDoc struct {
	Format    string   `json:"format"`
	Services  []string `json:"services"`
	Addresses []string `json:"addresses"`
}

const ownerFormat = "lbx-owned/1"

// OpenOwnerRecord loads (or starts) the record for a namespace under dir.
func OpenOwnerRecord(dir, netns string) (*OwnerRecord, error) {
	name := "owned-host.json"
	if netns != "" {
		name = "owned-netns-" + netns + ".json"
	}
	r := &OwnerRecord{path: filepath.Join(dir, name), doc: ownerDoc{Format: ownerFormat}}
	b, err := os.ReadFile(r.path)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ownership record: %w", err)
	}
	if err := json.Unmarshal(b, &r.doc); err != nil || r.doc.Format != ownerFormat {
		return nil, fmt.Errorf("ownership record %s is damaged; move it away to start over (lbx then manages only what the model declares)", r.path)
	}
	return r, nil
}

// NewMemoryOwnerRecord returns a record that is never written to disk
// (tests, `plan --live`).
func NewMemoryOwnerRecord() *OwnerRecord { return &OwnerRecord{doc: ownerDoc{Format: ownerFormat}} }

// Path is the record's file.
func (r *OwnerRecord) Path() string { return r.path }

// Owned returns the owned keys for plan.Diff.
func (r *OwnerRecord) Owned() plan.Owned {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := plan.Owned{Services: map[state.ServiceKey]bool{}, Addresses: map[state.AddressKey]bool{}}
	for _, s := range r.doc.Services {
		if k, err := state.ParseServiceKey(s); err == nil {
			o.Services[k] = true
		}
	}
	for _, a := range r.doc.Addresses {
		if k, err := parseAddressKey(a); err == nil {
			o.Addresses[k] = true
		}
	}
	return o
}

func parseAddressKey(s string) (state.AddressKey, error) {
	i := len(s) - 1
	for i >= 0 && s[i] != '/' {
		i--
	}
	if i <= 0 {
		return state.AddressKey{}, fmt.Errorf("bad address key %q", s)
	}
	var k state.AddressKey
	k.Interface = s[:i]
	a, err := parseAddr(s[i+1:])
	k.Addr = a
	return k, err
}

// Claim adds the objects a plan will create, before they are created.
func (r *OwnerRecord) Claim(cs []plan.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	svcs, addrs := r.sets()
	for _, c := range cs {
		if c.Action != plan.Create && c.Action != plan.Replace {
			continue
		}
		switch c.Kind {
		case plan.KindService:
			svcs[c.Service.String()] = true
		case plan.KindAddress:
			addrs[c.AfterAddr.Key.String()] = true
		}
	}
	return r.save(svcs, addrs)
}

// Release forgets the objects whose delete was done.
func (r *OwnerRecord) Release(done []plan.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	svcs, addrs := r.sets()
	for _, c := range done {
		if c.Action != plan.Delete {
			continue
		}
		switch c.Kind {
		case plan.KindService:
			delete(svcs, c.Service.String())
		case plan.KindAddress:
			delete(addrs, c.BeforeAddr.Key.String())
		}
	}
	return r.save(svcs, addrs)
}

func (r *OwnerRecord) sets() (map[string]bool, map[string]bool) {
	svcs, addrs := map[string]bool{}, map[string]bool{}
	for _, s := range r.doc.Services {
		svcs[s] = true
	}
	for _, a := range r.doc.Addresses {
		addrs[a] = true
	}
	return svcs, addrs
}

func (r *OwnerRecord) save(svcs, addrs map[string]bool) error {
	r.doc.Services = sortedSet(svcs)
	r.doc.Addresses = sortedSet(addrs)
	if r.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
		return fmt.Errorf("ownership record: %w", err)
	}
	b, _ := json.MarshalIndent(r.doc, "", "  ")
	tmp := r.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("ownership record: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("ownership record: %w", err)
	}
	// fsync before rename: after a crash the record is the old or the new
	// one, never empty.
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("ownership record: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("ownership record: %w", err)
	}
	return os.Rename(tmp, r.path)
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
