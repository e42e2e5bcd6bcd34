// select: the twin of bench/select.c — four producers, each sending
// 0..N/4-1 on its own unbuffered channel, and one consumer selecting over
// the four receives, N times.  Reports the cost of one item.
package main

import (
	"fmt"
	"os"
	"time"

	"gort/bench/benchutil"
)

func produce(c chan int64, m int64) {
	for i := int64(0); i < m; i++ {
		c <- i
	}
}

func main() {
	m := int64(benchutil.Arg(1000000)) / 4
	n := 4 * m
	var c [4]chan int64
	for k := range c {
		c[k] = make(chan int64)
	}
	var count [4]int64
	bad := 0
	t0 := time.Now()
	for k := range c {
		go produce(c[k], m)
	}
	// Each channel's values arrive in order: the k-th value received from
	// a channel is k.
	for i := int64(0); i < n; i++ {
		select {
		case v := <-c[0]:
			if v != count[0] {
				bad++
			}
			count[0]++
		case v := <-c[1]:
			if v != count[1] {
				bad++
			}
			count[1]++
		case v := <-c[2]:
			if v != count[2] {
				bad++
			}
			count[2]++
		case v := <-c[3]:
			if v != count[3] {
				bad++
			}
			count[3]++
		}
	}
	benchutil.Report("select", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
	for k := range count {
		if count[k] != m {
			bad++
		}
	}
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "select: counts %v (want %d each), %d values out of order\n", count, m, bad)
		os.Exit(1)
	}
}
