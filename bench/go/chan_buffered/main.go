// chan_buffered: the twin of bench/chan_buffered.c — one producer sends
// 0..N-1 on a channel of capacity 128 and closes it, the main goroutine
// receives until it is closed and drained.  Reports the cost of one item.
package main

import (
	"fmt"
	"os"
	"time"

	"gort/bench/benchutil"
)

func main() {
	n := int64(benchutil.Arg(10000000))
	c := make(chan int64, 128)
	t0 := time.Now()
	go func() {
		for i := int64(0); i < n; i++ {
			c <- i
		}
		close(c)
	}()
	var count, sum int64
	for v := range c {
		sum += v
		count++
	}
	benchutil.Report("chan_buffered", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
	if count != n || sum != n*(n-1)/2 {
		fmt.Fprintf(os.Stderr, "chan_buffered: %d items summing to %d, want %d and %d\n",
			count, sum, n, n*(n-1)/2)
		os.Exit(1)
	}
}
