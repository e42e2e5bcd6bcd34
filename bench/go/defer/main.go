// defer: the twin of bench/defer.c — a call with one deferred call, of each
// kind; reports the cost of one call with its defer:
//
//	defer_scope  one plain defer, open-coded (GORT_DEFER)
//	defer_heap   one defer in a loop, a deferproc record (gort_defer)
//	defer_copy   the same with two int arguments evaluated at the defer
//	             statement, which Go captures in a closure (gort_defer_copy)
//
// `go build -gcflags=-d=defer ./defer` shows what each defer compiles to.
package main

import (
	"time"

	"gort/bench/benchutil"
)

var counter int

//go:noinline
func bump() { counter++ }

//go:noinline
func add(a, b int) { counter += a + b }

//go:noinline
func deferScope() {
	defer bump()
}

// The one-trip loop keeps the defer from being open-coded.
//
//go:noinline
func deferHeap() {
	for i := 0; i < 1; i++ {
		defer bump()
	}
}

//go:noinline
func deferCopy(a, b int) {
	for i := 0; i < 1; i++ {
		defer add(a, b)
	}
}

func report(name string, t0 time.Time, n int) {
	benchutil.Report(name, float64(time.Since(t0).Nanoseconds())/float64(n), "ns/op")
}

// n calls for defer_scope, fewer for the slower kinds (about 0.2-0.5 s
// each). Each loop runs a hundredth of its count first, untimed, to warm
// the caches and the defer pool; the loops are written out so that every
// call is direct, as in C.
func main() {
	n := benchutil.Arg(50000000)

	for i := 0; i < n/100; i++ {
		deferScope()
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		deferScope()
	}
	report("defer_scope", t0, n)

	m := n / 4
	for i := 0; i < m/100; i++ {
		deferHeap()
	}
	t0 = time.Now()
	for i := 0; i < m; i++ {
		deferHeap()
	}
	report("defer_heap", t0, m)

	m = n / 8
	for i := 0; i < m/100; i++ {
		deferCopy(i, 1)
	}
	t0 = time.Now()
	for i := 0; i < m; i++ {
		deferCopy(i, 1)
	}
	report("defer_copy", t0, m)
}
