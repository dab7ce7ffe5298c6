// Package testkit is lbx's shared test support: the polling helper
// (Eventually), the build of lbx's commands from this tree (Binaries), a
// model's desired state from YAML (Desired, Model), and skips that are
// counted (Skip, RequireRoot). A package that builds binaries or skips has
// a TestMain that runs its tests through Main, which removes the binaries
// and prints one line on what was skipped.
//
// Only tests import it: vrrpd/vrrptest's TestNotLinkedIntoBinaries fails
// when a binary links it.
package testkit
