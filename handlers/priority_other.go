//go:build !linux

package handlers

// lowerThreadPriority is a no-op where priorities are not per thread.
func lowerThreadPriority() {}
