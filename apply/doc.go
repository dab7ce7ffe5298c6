// Package apply is the executor: it carries out a plan (package plan)
// against a kernel.Kernel. It holds
//
//	execute.go  Execute and the Reconcile family: ordering, batching of
//	            IPVS writes, a re-run that converges (a create that meets
//	            an object becomes an update), partial results, interrupts
//	drains.go   real servers lbx watch drains across reconciles
//	progress.go what a long apply tells the person watching it
//	syncd.go    IPVS sync daemons made the wanted ones
//	sysctl.go   sysctl changes
//	owner.go    the ownership record: what lbx created, claimed after each
//	            write, so that pruning deletes only lbx's objects
//	lock.go     the one-writer lock an apply and lbx watch take before
//	            executing, so that two plans never interleave
//
// The ownership record and the lock are the executor's because both exist
// for its writes: the record is updated by Execute write by write (a crash
// loses no claim), and the lock is what makes a plan's reading of the
// kernel still true when it executes. How the kernel is reached (netlink,
// IPVS, sysctls) is package kernel's; tests run the executor on
// kernel/kerneltest's in-memory kernel, without root.
package apply
