// mutex: the twin of bench/mutex.c — four goroutines contending on one
// sync.Mutex, each incrementing a shared counter N/4 times under it.
// Reports the cost of one Lock/Unlock pair.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"gort/bench/benchutil"
)

var (
	mu      sync.Mutex
	counter int64
)

func work(m int64, wg *sync.WaitGroup) {
	for i := int64(0); i < m; i++ {
		mu.Lock()
		counter++
		mu.Unlock()
	}
	wg.Done()
}

func main() {
	const workers = 4
	m := int64(benchutil.Arg(10000000)) / workers
	n := workers * m
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(workers)
	for k := 0; k < workers; k++ {
		go work(m, &wg)
	}
	wg.Wait()
	benchutil.Report("mutex", float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
	if counter != n {
		fmt.Fprintf(os.Stderr, "mutex: counter %d, want %d\n", counter, n)
		os.Exit(1)
	}
}
