// skynet_chan: the twin of bench/skynet_chan.c — the original skynet: a
// tree of goroutines, ten children each, down to a million leaves; each
// node makes a channel of capacity 10, starts its ten children, which send
// their sums on it, receives the ten sums and sends their total to its
// parent.  Reports the whole run in ms.
package main

import (
	"fmt"
	"os"
	"time"

	"gort/bench/benchutil"
)

func skynet(c chan int64, num, size int64) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int64, 10)
	sub := size / 10
	for i := int64(0); i < 10; i++ {
		go skynet(rc, num+i*sub, sub)
	}
	var sum int64
	for i := 0; i < 10; i++ {
		sum += <-rc
	}
	c <- sum
}

func main() {
	size := int64(benchutil.Arg(1000000))
	t0 := time.Now()
	c := make(chan int64, 1)
	go skynet(c, 0, size)
	result := <-c
	benchutil.Report("skynet_chan", float64(time.Since(t0).Nanoseconds())/1e6, "ms")
	if result != size*(size-1)/2 {
		fmt.Fprintf(os.Stderr, "skynet_chan: wrong sum %d\n", result)
		os.Exit(1)
	}
}
