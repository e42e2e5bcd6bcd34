// ring: the twin of bench/ring.c — the thread ring: 503 goroutines in a
// ring of unbuffered channels pass a token N times; each decrements it and
// the one that receives 0 reports its number (1-based), which must be
// N%503+1.  Reports the cost of one hop.  Then the channels are closed and
// the ring's goroutines end.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"gort/bench/benchutil"
)

const ringSize = 503

func member(id int, in, out chan int, done chan int, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		token, ok := <-in
		if !ok {
			return
		}
		if token == 0 {
			done <- id
			return
		}
		out <- token - 1
	}
}

func main() {
	n := benchutil.Arg(2000000)
	var ch [ringSize]chan int
	for i := range ch {
		ch[i] = make(chan int)
	}
	done := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(ringSize)
	for i := 0; i < ringSize; i++ {
		go member(i+1, ch[i], ch[(i+1)%ringSize], done, &wg)
	}
	ch[0] <- n
	winner := <-done
	benchutil.Report("ring", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
	for i := range ch {
		close(ch[i])
	}
	wg.Wait()
	if winner != n%ringSize+1 {
		fmt.Fprintf(os.Stderr, "ring: goroutine %d got the last token, want %d\n", winner, n%ringSize+1)
		os.Exit(1)
	}
}
