package apply

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	// The owned keys, parsed once at load: Owned is called on every
	// reconcile of `lbx watch`, including VRRP failovers.
	owned plan.Owned
}

type ownerDoc struct {
	Format    string   `json:"format"`
	Services  []string `json:"services"`
	Addresses []string `json:"addresses"`
}

const ownerFormat = "lbx-owned/1"

func emptyOwned() plan.Owned {
	return plan.Owned{Services: map[state.ServiceKey]bool{}, Addresses: map[state.AddressKey]bool{}}
}

// OpenOwnerRecord loads (or starts) the record for a namespace under dir.
func OpenOwnerRecord(dir, netns string) (*OwnerRecord, error) {
	name := "owned-host.json"
	if netns != "" {
		name = "owned-netns-" + netns + ".json"
	}
	r := &OwnerRecord{path: filepath.Join(dir, name), owned: emptyOwned()}
	b, err := os.ReadFile(r.path)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ownership record: %w", err)
	}
	var doc ownerDoc
	if err := json.Unmarshal(b, &doc); err != nil || doc.Format != ownerFormat {
		return nil, fmt.Errorf("ownership record %s is damaged; move it away to start over (lbx then manages only what the model declares)", r.path)
	}
	for _, s := range doc.Services {
		if k, err := state.ParseServiceKey(s); err == nil {
			r.owned.Services[k] = true
		}
	}
	for _, a := range doc.Addresses {
		if k, err := parseAddressKey(a); err == nil {
			r.owned.Addresses[k] = true
		}
	}
	return r, nil
}

// NewMemoryOwnerRecord returns a record that is never written to disk
// (tests, `plan --live`).
func NewMemoryOwnerRecord() *OwnerRecord { return &OwnerRecord{owned: emptyOwned()} }

// Path is the record's file.
func (r *OwnerRecord) Path() string { return r.path }

// Owned returns a copy of the owned keys for plan.Diff.
func (r *OwnerRecord) Owned() plan.Owned {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := emptyOwned()
	for k := range r.owned.Services {
		o.Services[k] = true
	}
	for k := range r.owned.Addresses {
		o.Addresses[k] = true
	}
	return o
}

// OwnedAddresses is Owned's addresses only.
func (r *OwnerRecord) OwnedAddresses() map[state.AddressKey]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := make(map[state.AddressKey]bool, len(r.owned.Addresses))
	for k := range r.owned.Addresses {
		o[k] = true
	}
	return o
}

// parseAddressKey parses AddressKey.String ("eth0/192.0.2.1"); the
// address is after the last '/', interface names have none.
func parseAddressKey(s string) (state.AddressKey, error) {
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return state.AddressKey{}, fmt.Errorf("bad address key %q", s)
	}
	a, err := netip.ParseAddr(s[i+1:])
	return state.AddressKey{Interface: s[:i], Addr: a}, err
}

// Claim adds the objects a plan will create, before they are created.
func (r *OwnerRecord) Claim(cs []plan.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		if c.Action != plan.Create && c.Action != plan.Replace {
			continue
		}
		switch c.Kind {
		case plan.KindService:
			r.owned.Services[c.Service] = true
		case plan.KindAddress:
			r.owned.Addresses[c.AfterAddr.Key] = true
		}
	}
	return r.save()
}

// Release forgets the objects whose delete was done.
func (r *OwnerRecord) Release(done []plan.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range done {
		if c.Action != plan.Delete {
			continue
		}
		switch c.Kind {
		case plan.KindService:
			delete(r.owned.Services, c.Service)
		case plan.KindAddress:
			delete(r.owned.Addresses, c.BeforeAddr.Key)
		}
	}
	return r.save()
}

func (r *OwnerRecord) save() error {
	if r.path == "" {
		return nil
	}
	doc := ownerDoc{Format: ownerFormat, Services: []string{}, Addresses: []string{}}
	for k := range r.owned.Services {
		doc.Services = append(doc.Services, k.String())
	}
	for k := range r.owned.Addresses {
		doc.Addresses = append(doc.Addresses, k.String())
	}
	sort.Strings(doc.Services)
	sort.Strings(doc.Addresses)
	if err := os.MkdirAll(filepath.Dir(r.path), 0o755); err != nil {
		return fmt.Errorf("ownership record: %w", err)
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
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
