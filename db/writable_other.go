//go:build !unix

package db

import (
	"errors"
	"os"
)

// writable reports whether path has lost its write permission (on Windows,
// the read-only attribute).
func writable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o200 == 0 {
		return errors.New("the file is read-only")
	}
	return nil
}
