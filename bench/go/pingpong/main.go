// pingpong: the twin of bench/pingpong.c — two goroutines and two
// unbuffered channels; main sends i on ping, the partner answers i+1 on
// pong.  Reports the cost of one round trip (two handoffs).
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"gort/bench/benchutil"
)

func main() {
	n := benchutil.Arg(1000000)
	ping := make(chan int64)
	pong := make(chan int64)
	var wg sync.WaitGroup
	wg.Add(1)
	t0 := time.Now()
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			pong <- <-ping + 1
		}
	}()
	bad := 0
	for i := int64(0); i < int64(n); i++ {
		ping <- i
		if <-pong != i+1 {
			bad++
		}
	}
	benchutil.Report("pingpong", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
	wg.Wait()
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "pingpong: %d wrong answers\n", bad)
		os.Exit(1)
	}
}
