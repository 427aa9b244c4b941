//go:build !linux

package auth

// lowerThreadPriority is a no-op where priorities are not per thread.
func lowerThreadPriority() {}
