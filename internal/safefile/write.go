package safefile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data (mode perm) without ever writing
// through a link another user may have planted: the data go to a fresh
// temporary file in the same directory (created with O_EXCL, which does
// not follow a symbolic link, and with a name nobody can guess in
// advance) that is then renamed over path (rename replaces a link at
// path, never its target). A directory every user may write without the
// sticky bit is refused: there, another user could rename the temporary
// file away or swap path between the write and the rename. Readers see
// the old contents or the new, never a part.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

// WriteFileSync is WriteFile for a file that must survive a crash (lbx's
// ownership record): the data are fsynced before the rename, so that the
// file is the old or the new one, never empty, and the directory after it,
// so that the rename itself is durable.
func WriteFileSync(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, true)
}

func write(path string, data []byte, perm os.FileMode, durable bool) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if m := fi.Mode(); m&0o002 != 0 && m&os.ModeSticky == 0 {
		return &Error{Path: path, Reason: fmt.Sprintf("its directory %s is writable by every user without the sticky bit; choose a directory only lbx's user can write (e.g. /run/lbx)", dir)}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if durable {
		return syncDir(dir)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
