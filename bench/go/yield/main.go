// yield: the twin of bench/yield.c — two goroutines calling
// runtime.Gosched, N yields in all; reports the cost of one yield.
package main

import (
	"runtime"
	"sync/atomic"
	"time"

	"gort/bench/benchutil"
)

func main() {
	n := benchutil.Arg(10000000)
	var done int32
	t0 := time.Now()
	go func() {
		for i := 0; i < n/2; i++ {
			runtime.Gosched()
		}
		atomic.StoreInt32(&done, 1)
	}()
	for i := 0; i < n/2; i++ {
		runtime.Gosched()
	}
	for atomic.LoadInt32(&done) == 0 {
		runtime.Gosched()
	}
	benchutil.Report("yield", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
}
