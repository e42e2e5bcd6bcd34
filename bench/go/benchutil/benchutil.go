// Package benchutil is what the Go twins share, as bench/bench.h is for
// the C programs: the size argument and the result line that bench/run.sh
// reads ("<name> <value> <unit>").  BENCH_TRACE=path runs the program
// under Go's execution tracer, as GORT_TRACE=path does a gort program, to
// measure what tracing costs.
package benchutil

import (
	"fmt"
	"os"
	"runtime/trace"
	"strconv"
)

func init() {
	if path := os.Getenv("BENCH_TRACE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = trace.Start(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "BENCH_TRACE:", err)
			os.Exit(2)
		}
	}
}

// Arg returns the first command-line argument as a number, or def.
func Arg(def int) int {
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[1]); err == nil {
			return n
		}
	}
	return def
}

// Report prints the result line.
func Report(name string, value float64, unit string) {
	fmt.Printf("%s %.2f %s\n", name, value, unit)
}
