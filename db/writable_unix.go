//go:build unix

package db

import "syscall"

// writable reports whether this process may write path, as the kernel
// decides (permissions, a read-only mount).
func writable(path string) error {
	return syscall.Access(path, 2 /* W_OK */)
}
