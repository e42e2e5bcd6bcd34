// spawn: the twin of bench/spawn.c — N goroutines created and finished;
// the main goroutine waits for the count by yielding.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	n := int64(1000000)
	if len(os.Args) > 1 {
		v, _ := strconv.Atoi(os.Args[1])
		n = int64(v)
	}
	var finished int64
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go func() { atomic.AddInt64(&finished, 1) }()
	}
	for atomic.LoadInt64(&finished) < n {
		runtime.Gosched()
	}
	fmt.Printf("spawn %.2f ns/op\n", float64(time.Since(t0).Nanoseconds())/float64(n))
}
