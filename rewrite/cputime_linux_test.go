package rewrite

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time of the calling thread; benchmarks lock
// their goroutine to a thread to report CPU time per operation, which a
// busy machine does not inflate the way it inflates wall time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
