// spawn: the twin of bench/spawn.c — N goroutines created and finished;
// the main goroutine waits for the count by yielding.
package main

import (
	"runtime"
	"sync/atomic"
	"time"

	"gort/bench/benchutil"
)

func main() {
	n := int64(benchutil.Arg(1000000))
	var finished int64
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go func() { atomic.AddInt64(&finished, 1) }()
	}
	for atomic.LoadInt64(&finished) < n {
		runtime.Gosched()
	}
	benchutil.Report("spawn", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
}
