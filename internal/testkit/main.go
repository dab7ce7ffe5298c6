package testkit

import "os"

// Main runs a package's tests (run is m.Run, or a wrapper of it such as
// nstest.MainGuardingHostDirs), then removes the directories Binaries
// built into and prints one line on the tests Skip skipped. A package
// that calls Binaries or Skip (nstest.Require, RequireRoot) has
//
//	func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }
func Main(run func() int) int {
	built.Lock()
	built.inMain = true
	built.Unlock()
	code := run()
	reportSkips()
	built.Lock()
	defer built.Unlock()
	for _, b := range built.dirs {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
	built.dirs = nil
	return code
}
