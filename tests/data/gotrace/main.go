// Command gotrace writes the execution trace that tests/test_tracetool.c
// reads (tests/data/go119.trace): a few goroutines that meet on channels,
// a select, a sync.Mutex and time.Sleep, inside a user task with regions
// and logs, so that every kind of event the tool handles appears in it.
//
// Regenerate with Go 1.19, from the repository's root:
//
//	GOMAXPROCS=2 go run -trimpath tests/data/gotrace/main.go tests/data/go119.trace
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"syscall"
	"time"
)

func producer(ctx context.Context, out chan<- int, n int) {
	trace.WithRegion(ctx, "produce", func() {
		for i := 0; i < n; i++ {
			out <- i
		}
	})
	close(out)
}

func consumer(ctx context.Context, in <-chan int, quit <-chan struct{}, sum *int, mu *sync.Mutex, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case v, ok := <-in:
			if !ok {
				return
			}
			mu.Lock()
			*sum += v
			mu.Unlock()
		case <-quit:
			return
		}
	}
}

func sleeper(ctx context.Context, wg *sync.WaitGroup, d time.Duration) {
	defer wg.Done()
	trace.WithRegion(ctx, "nap", func() {
		time.Sleep(d)
	})
	trace.Log(ctx, "sleeper", fmt.Sprintf("slept %v", d))
}

// contender holds the mutex across a sleep so that the others block on it.
func contender(mu *sync.Mutex, wg *sync.WaitGroup) {
	defer wg.Done()
	mu.Lock()
	time.Sleep(2 * time.Millisecond)
	mu.Unlock()
}

// blockingRead reads from a pipe with a raw system call, which the runtime
// cannot hand to the netpoller: the P is retaken while it blocks
// (GoSysCall, GoSysBlock, then GoSysExit).
func blockingRead(fd int, wg *sync.WaitGroup) {
	defer wg.Done()
	var b [1]byte
	syscall.Read(fd, b[:])
}

// pollRead blocks in the netpoller (GoBlockNet) on an os.Pipe.
func pollRead(r *os.File, wg *sync.WaitGroup) {
	defer wg.Done()
	var b [1]byte
	r.Read(b[:])
}

// yielder gives up its P a few times (GoSched).
func yielder(wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < 3; i++ {
		runtime.Gosched()
	}
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := trace.Start(f); err != nil {
		panic(err)
	}
	defer trace.Stop()

	ctx, task := trace.NewTask(context.Background(), "pipeline")
	// The message tests the JSON writer's escaping: quotes, a backslash,
	// a newline, a tab, UTF-8 and a byte that is not UTF-8.
	trace.Log(ctx, "main", "start \"pipeline\" \\ with\nnewline\ttab, h\u00e9llo, bad \xff byte")

	var mu sync.Mutex
	var wg sync.WaitGroup
	var sum int
	ch := make(chan int)
	quit := make(chan struct{})
	// Held until the pipes are written: the consumers' first values wait
	// for it (GoBlockSync).
	mu.Lock()
	go producer(ctx, ch, 200)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go consumer(ctx, ch, quit, &sum, &mu, &wg)
	}
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go sleeper(ctx, &wg, time.Duration(i+1)*time.Millisecond)
	}
	wg.Add(1)
	go contender(&mu, &wg)

	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		panic(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	wg.Add(3)
	go blockingRead(fds[0], &wg)
	go pollRead(pr, &wg)
	go yielder(&wg)
	time.Sleep(3 * time.Millisecond)
	syscall.Write(fds[1], []byte{1})
	pw.Write([]byte{1})
	mu.Unlock()

	// A goroutine blocked for good on a channel nobody sends on: still
	// alive when the trace stops.
	never := make(chan int)
	go func() { <-never }()

	trace.WithRegion(ctx, "wait", wg.Wait)
	close(quit)
	trace.Log(ctx, "main", fmt.Sprintf("sum %d", sum))
	task.End()
}
