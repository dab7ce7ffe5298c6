package apply

import (
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/ownership"
	"github.com/lbx-dev/lbx/plan"
)

// OwnerRecord is lbx's ownership record (package ownership) as the plan
// path uses it: a plan's creates are claimed before they are made, its
// deletes released once done. One record per network namespace.
type OwnerRecord struct{ *ownership.Record }

// OwnerRecordPath is the record of a network namespace under dir: id is
// "" for the host's namespace, else the namespace's identity as the lock
// names it ("-netns-<inode>", internal/paths.NetnsID): a `lbx watch` under `ip netns
// exec` and a `lbx apply --netns` of the same namespace share one record,
// and no two namespaces do.
func OwnerRecordPath(dir, id string) string { return ownership.Path(dir, id) }

// OpenOwnerRecord loads (or starts) the record of a namespace (id as in
// OwnerRecordPath) under dir.
func OpenOwnerRecord(dir, id string) (*OwnerRecord, error) {
	r, err := ownership.Open(dir, id)
	if err != nil {
		return nil, err
	}
	return &OwnerRecord{r}, nil
}

// NewMemoryOwnerRecord returns a record that is never written to disk
// (tests, `plan --live`).
func NewMemoryOwnerRecord() *OwnerRecord { return &OwnerRecord{ownership.NewMemory()} }

// Claim adds the objects a plan will create, before they are created
// (ownership.Record.Claim).
func (r *OwnerRecord) Claim(cs []plan.Change) error {
	added := ownership.Empty()
	for _, c := range cs {
		if c.Action != plan.Create && c.Action != plan.Replace {
			continue
		}
		switch c.Kind {
		case plan.KindService:
			added.Services[c.Service] = true
		case plan.KindAddress:
			added.Addresses[c.AfterAddr.Key] = true
		}
	}
	return r.Record.Claim(added)
}

// Release forgets the objects whose delete was done.
func (r *OwnerRecord) Release(done []plan.Change) error {
	gone := ownership.Empty()
	for _, c := range done {
		if c.Action != plan.Delete {
			continue
		}
		switch c.Kind {
		case plan.KindService:
			gone.Services[c.Service] = true
		case plan.KindAddress:
			gone.Addresses[c.BeforeAddr.Key] = true
		}
	}
	return r.Record.Release(gone)
}

// Declared lists the services and addresses d declares, VRRP addresses
// included (whatever their instance's state): the claims ForgetAbsent
// keeps.
func Declared(d *model.Desired) plan.Owned {
	o := ownership.Empty()
	for k := range d.State.Services {
		o.Services[k] = true
	}
	for k := range d.State.Addresses {
		o.Addresses[k] = true
	}
	for _, a := range d.VRRPAddresses {
		o.Addresses[a.Key] = true
	}
	return o
}
