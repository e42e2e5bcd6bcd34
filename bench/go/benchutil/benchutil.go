// Package benchutil is what the Go twins share, as bench/bench.h is for
// the C programs: the size argument and the result line that bench/run.sh
// reads ("<name> <value> <unit>").
package benchutil

import (
	"fmt"
	"os"
	"strconv"
)

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
