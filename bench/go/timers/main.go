// timers: the twin of bench/timers.c — N timers made with delays spread
// over 1-10 ms, then each one's value received, in the order they were
// made; each value must be no earlier than the start plus its delay.
// Reports the cost of one timer, made, fired and received.
package main

import (
	"fmt"
	"os"
	"time"

	"gort/bench/benchutil"
)

// delay spreads the timers over [1 ms, 10 ms) in a scattered order.
func delay(i int) time.Duration {
	return time.Millisecond + time.Duration(i*7919%9000)*time.Microsecond
}

func main() {
	n := benchutil.Arg(100000)
	timers := make([]*time.Timer, n)
	bad := 0
	t0 := time.Now()
	for i := range timers {
		timers[i] = time.NewTimer(delay(i))
	}
	for i, t := range timers {
		v := <-t.C
		if v.Before(t0.Add(delay(i))) {
			bad++
		}
	}
	benchutil.Report("timers", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "timers: %d of %d timers fired early\n", bad, n)
		os.Exit(1)
	}
}
