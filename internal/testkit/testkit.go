// Package testkit is lbx's shared test support: the polling helper
// (Eventually), the build of lbx's binaries from this tree (Binaries, with
// Main removing them) and a model's desired state from YAML (Desired).
//
// Only tests import it: vrrpd/vrrptest's TestNotLinkedIntoBinaries fails
// when a binary links it.
package testkit
