// panic: the twin of bench/panic.c — a call whose deferred function
// recovers, which then panics; reports the cost of one panic+recover
// through that one frame.
package main

import (
	"time"

	"gort/bench/benchutil"
)

//go:noinline
func panicker() {
	defer func() { recover() }()
	panic("boom")
}

func main() {
	n := benchutil.Arg(2000000)
	for i := 0; i < n/100; i++ { // warm up
		panicker()
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		panicker()
	}
	benchutil.Report("panic_recover", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
}
