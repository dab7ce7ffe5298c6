// Package procsys writes the kernel's settings under /proc/sys.
package procsys

import "os"

// Write writes value to a setting's file, which exists or does not: no
// create and no truncate, since /proc/sys takes one write of the whole
// value.
func Write(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
