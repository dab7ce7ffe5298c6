package cli

// ExitCode is one exit status of lbx and what it means.
type ExitCode struct {
	Code    int
	Meaning string
}

// ExitCodes lists every exit status for lbx(1)'s EXIT STATUS section, in
// the words an operator's script needs; the constants above are what the
// commands return.
var ExitCodes = []ExitCode{
	{ExitOK, "Success. lbx plan: no changes (with --detailed-exitcode)."},
	{ExitError1, "Error: an invalid model (every error is printed as file:line:col), a kernel error, a bad flag."},
	{ExitChanges, "lbx plan --detailed-exitcode: the plan has changes."},
	{ExitStale, "lbx apply PLANFILE: the live state changed since the plan was made; plan again."},
	{ExitLocked, "Another lbx (lbx apply, or the lbx watch daemon) held the lock past --lock-timeout."},
	{ExitPartial, "lbx apply stopped part-way; its report says what was done."},
}
