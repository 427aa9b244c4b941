//go:build !linux

package backup

// networkFS reports no network filesystem: the check reads Linux's
// filesystem magic numbers, and elsewhere the choice is the operator's.
func networkFS(dir string) (string, bool) { return "", false }
