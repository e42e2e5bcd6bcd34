// idlemem: the twin of bench/idlemem.c — N goroutines parked receiving on
// one shared channel; reports how much the resident set grew per parked
// goroutine, read from /proc/self/statm before and after (as the C program
// does, not from runtime.MemStats, so that both measure the same thing).
// Then the channel is closed and every goroutine must see it closed and end.
package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"gort/bench/benchutil"
)

// rss returns the resident set size in bytes (statm's second field, in
// pages).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fmt.Fprintln(os.Stderr, "idlemem:", err)
		os.Exit(1)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		fmt.Fprintln(os.Stderr, "idlemem: /proc/self/statm:", err)
		os.Exit(1)
	}
	return resident * int64(os.Getpagesize())
}

func main() {
	n := benchutil.Arg(100000)
	c := make(chan int)
	var started, finished sync.WaitGroup
	var closed int64
	before := rss()
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			if _, ok := <-c; !ok {
				atomic.AddInt64(&closed, 1)
			}
			finished.Done()
		}()
	}
	// Every goroutine has run up to its receive; give the last ones time
	// to park.
	started.Wait()
	time.Sleep(10 * time.Millisecond)
	after := rss()
	benchutil.Report("idlemem", float64(after-before)/float64(n), "B/goroutine")
	close(c)
	finished.Wait()
	if closed != int64(n) {
		fmt.Fprintf(os.Stderr, "idlemem: %d of %d goroutines saw the channel closed\n", closed, n)
		os.Exit(1)
	}
}
