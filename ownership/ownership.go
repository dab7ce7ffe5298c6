// Package ownership is lbx's ownership record: the IPVS services and
// addresses lbx created, so that one taken out of the model is deleted
// while objects lbx never made (kube-proxy's, Docker's, hand-made) are
// left alone. It holds keys only (package state's), not the plan that
// claims them, so that a process that runs VRRP alone can keep the same
// record without linking the planner (package apply claims a plan's
// creates and releases its deletes through it).
package ownership

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/lbx-dev/lbx/internal/safefile"
	"github.com/lbx-dev/lbx/state"
)

// Keys are owned objects (plan.Owned is this type).
type Keys struct {
	Services  map[state.ServiceKey]bool
	Addresses map[state.AddressKey]bool
}

// Empty returns Keys with both maps made.
func Empty() Keys {
	return Keys{Services: map[state.ServiceKey]bool{}, Addresses: map[state.AddressKey]bool{}}
}

// Record is the ownership record of one network namespace. The kernel
// has no owner field for IPVS services, hence a file, like Terraform's
// state.
type Record struct {
	path string
	mu   sync.Mutex
	// The owned keys, parsed once at load: Owned is called on every
	// reconcile of `lbx watch`, including VRRP failovers.
	owned Keys
	// dirty: owned has releases (ForgetAbsent) not yet written.
	dirty bool
}

type ownerDoc struct {
	Format    string   `json:"format"`
	Services  []string `json:"services"`
	Addresses []string `json:"addresses"`
}

const ownerFormat = "lbx-owned/1"

// maxRecord bounds the record's size when it is read.
const maxRecord = 64 << 20

// Path is the record of a network namespace under dir: id is
// "" for the host's namespace, else the namespace's identity as the lock
// names it ("-netns-<inode>", internal/paths.NetnsID): a `lbx watch` under `ip netns
// exec` and a `lbx apply --netns` of the same namespace share one record,
// and no two namespaces do.
func Path(dir, id string) string {
	if id == "" {
		return filepath.Join(dir, "owned-host.json")
	}
	return filepath.Join(dir, "owned"+id+".json")
}

// Open loads (or starts) the record of a namespace (id as in
// Path) under dir.
func Open(dir, id string) (*Record, error) {
	r := &Record{path: Path(dir, id), owned: Empty()}
	// Bounded, never a FIFO or device put in its place (the record of
	// thousands of objects is a few hundred kilobytes), and lbx's own: it
	// says what lbx may delete, so one another user wrote is refused.
	b, err := safefile.ReadPrivateFile(r.path, maxRecord)
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

// NewMemory returns a record that is never written to disk
// (tests, `plan --live`).
func NewMemory() *Record { return &Record{owned: Empty()} }

// Path is the record's file.
func (r *Record) Path() string { return r.path }

// Owned returns a copy of the owned keys for plan.Diff.
func (r *Record) Owned() Keys {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := Empty()
	for k := range r.owned.Services {
		o.Services[k] = true
	}
	for k := range r.owned.Addresses {
		o.Addresses[k] = true
	}
	return o
}

// OwnedAddresses is Owned's addresses only.
func (r *Record) OwnedAddresses() map[state.AddressKey]bool { return r.OwnedAddressesInto(nil) }

// OwnedAddressesInto is OwnedAddresses in dst, emptied first (made when
// nil): a daemon that reconciles every few seconds reuses one map.
func (r *Record) OwnedAddressesInto(dst map[state.AddressKey]bool) map[state.AddressKey]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if dst == nil {
		dst = make(map[state.AddressKey]bool, len(r.owned.Addresses))
	}
	clear(dst)
	for k := range r.owned.Addresses {
		dst[k] = true
	}
	return dst
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

// Claim adds keys to the record and writes it, before the objects are
// created. If the record cannot be written, the claims are dropped again
// and the error says so: the caller must then not create them ("written
// before it creates anything").
func (r *Record) Claim(k Keys) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	added := Empty()
	for s := range k.Services {
		if !r.owned.Services[s] {
			added.Services[s] = true
		}
	}
	for a := range k.Addresses {
		if !r.owned.Addresses[a] {
			added.Addresses[a] = true
		}
	}
	if len(added.Services)+len(added.Addresses) == 0 && !r.dirty {
		return nil
	}
	for s := range added.Services {
		r.owned.Services[s] = true
	}
	for a := range added.Addresses {
		r.owned.Addresses[a] = true
	}
	if err := r.save(); err != nil {
		for s := range added.Services {
			delete(r.owned.Services, s)
		}
		for a := range added.Addresses {
			delete(r.owned.Addresses, a)
		}
		return fmt.Errorf("%w; nothing new is created until it can be written", err)
	}
	return nil
}

// Release forgets keys whose objects were deleted, and writes the record
// if that changed it.
func (r *Record) Release(k Keys) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for s := range k.Services {
		r.dirty = r.owned.Services[s] || r.dirty
		delete(r.owned.Services, s)
	}
	for a := range k.Addresses {
		r.dirty = r.owned.Addresses[a] || r.dirty
		delete(r.owned.Addresses, a)
	}
	if !r.dirty {
		return nil
	}
	return r.save()
}

// ForgetAbsent forgets the claims on objects a read of the kernel did not
// find, except those in keep (the model in force declares them, to be
// created): an object that is gone is no longer lbx's, so that one made
// later by someone else with the same key is not taken for it (a delete
// done just before a kill -9, a VRRP address of an instance that left the
// model while BACKUP). services says the read covered IPVS. The record is
// changed in memory only (a plan must not write it, and a reconcile of
// lbx watch must not pay an fsync): Flush, Claim or Release write it. It
// returns how many claims it dropped.
func (r *Record) ForgetAbsent(live *state.State, services bool, keep Keys) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	if services {
		for k := range r.owned.Services {
			if live.Services[k] == nil && !keep.Services[k] {
				delete(r.owned.Services, k)
				n++
			}
		}
	}
	for k := range r.owned.Addresses {
		if _, ok := live.Addresses[k]; !ok && !keep.Addresses[k] {
			delete(r.owned.Addresses, k)
			n++
		}
	}
	r.dirty = r.dirty || n > 0
	return n
}

// Flush writes the record if ForgetAbsent or a failed write left it
// changed in memory only.
func (r *Record) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dirty {
		return nil
	}
	return r.save()
}

func (r *Record) save() error {
	if r.path == "" {
		r.dirty = false
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
	// A fresh temporary file (O_EXCL, unguessable name) renamed over the
	// record, fsynced before the rename and the directory after it: after a
	// crash the record is the old or the new one, never empty, and a
	// claim written is not lost.
	if err := safefile.WriteFileSync(r.path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("ownership record: %w", err)
	}
	r.dirty = false
	return nil
}
