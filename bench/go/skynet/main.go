// skynet: the twin of examples/skynet.c (run with -q) — a tree of
// goroutines, ten children each, down to a million leaves; the last child
// to finish completes its parent (atomics, no channels).  Reports the whole
// run in ms.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"gort/bench/benchutil"
)

type node struct {
	sum     int64
	pending int32
	parent  *node
	num     int64
	size    int64
}

var done int32
var result int64

func complete(n *node) {
	for n != nil {
		parent := n.parent
		sum := atomic.LoadInt64(&n.sum)
		if parent == nil {
			result = sum
			atomic.StoreInt32(&done, 1)
			return
		}
		atomic.AddInt64(&parent.sum, sum)
		if atomic.AddInt32(&parent.pending, -1) != 0 {
			return
		}
		n = parent
	}
}

func skynet(n *node) {
	if n.size == 1 {
		atomic.StoreInt64(&n.sum, n.num)
		complete(n)
		return
	}
	sub := n.size / 10
	atomic.StoreInt32(&n.pending, 10)
	for i := int64(0); i < 10; i++ {
		go skynet(&node{parent: n, num: n.num + i*sub, size: sub})
	}
}

func main() {
	size := int64(1000000)
	t0 := time.Now()
	go skynet(&node{size: size})
	for atomic.LoadInt32(&done) == 0 {
		runtime.Gosched()
	}
	ms := float64(time.Since(t0).Nanoseconds()) / 1e6
	if result != size*(size-1)/2 {
		fmt.Fprintf(os.Stderr, "skynet: wrong sum %d\n", result)
		os.Exit(1)
	}
	benchutil.Report("skynet", ms, "ms")
}
