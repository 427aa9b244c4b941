package auth

import "syscall"

// hashNice is the nice value of hashing threads, the lowest priority: the
// kernel gives them whatever CPU other threads leave. Measured under a login
// flood on 2 CPUs, token checks' p99 rose 4-5x at nice 0 and 3-4x at 19.
const hashNice = 19

// lowerThreadPriority lowers the calling thread's priority; on Linux nice
// values belong to threads. Failing is harmless: hashing just competes
// equally.
func lowerThreadPriority() {
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), hashNice)
}
