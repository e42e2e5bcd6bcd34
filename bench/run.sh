#!/usr/bin/env bash
# Runs every benchmark against its Go twin in bench/go/, side by side, for GORT_MAXPROCS=GOMAXPROCS=1 and 2, and prints one table of
# medians with the ratio gort/Go (below 1: gort is faster).
#
#   bench/run.sh [build-dir]          (make bench)
#   RUNS=7 BENCHES="yield spawn" bench/run.sh
#
# BENCHES names programs. A program may report several results, one line
# each ("<name> <value> <unit>"; defer measures three kinds of defer in one
# go): the table has a row per result name, in the order the gort program
# prints them. Runs alternate gort and Go so that both see the same machine
# noise.
#
# Then TRACED programs (default: yield pingpong) run again, each side with
# and without its execution tracer (GORT_TRACE for gort, BENCH_TRACE for
# the Go twin: bench/go/benchutil), the four runs alternating; the second
# table shows what tracing costs each side, as traced / untraced.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
runs=${RUNS:-5}
procs=${PROCS:-"1 2"}
benches=${BENCHES:-"spawn yield skynet defer panic pingpong chan_buffered select mutex ring skynet_chan timers idlemem"}
traced=${TRACED-"yield pingpong"}
out="$build/bench"
mkdir -p "$out/go"

command -v go >/dev/null || { echo "bench: 'go' not found (scripts/deps.sh bench installs it)" >&2; exit 1; }

# The skynet benchmark is the demo itself, quiet.
source_of() { if [ -f "$top/bench/$1.c" ]; then echo "$top/bench/$1.c"; else echo "$top/examples/$1.c"; fi; }
args_of() { [ -f "$top/bench/$1.c" ] || echo -q; }

for b in $(printf '%s\n' $benches $traced | awk '!seen[$0]++'); do
	cc -std=gnu11 -O2 -g -I"$top/include" -o "$out/$b" "$(source_of "$b")" "$build/libgort.a" $(pkg-config --libs libunwind libdw) -lpthread
	(cd "$top/bench/go" && GOCACHE="$build/gocache" GOPATH="$build/gopath" GOFLAGS=-mod=mod \
		go build -o "$out/go/$b" "./$b")
done

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
value() { awk -v n="$1" '$1 == n {print $2}'; }
unit() { awk -v n="$1" '$1 == n {print $3; exit}'; }
names() { awk '!seen[$1]++ {print $1}'; }

# Every run's lines are kept, per program, processor count and side, in
# $out/<program>.<procs>.{gort,go}; the rows are computed from them once all
# the runs of a program are done.
printf '%-14s %5s %14s %14s %8s\n' benchmark procs gort go ratio
for b in $benches; do
	for p in $procs; do
		: >"$out/$b.$p.gort"
		: >"$out/$b.$p.go"
		for ((i = 0; i < runs; i++)); do
			GORT_MAXPROCS=$p "$out/$b" $(args_of "$b") >>"$out/$b.$p.gort"
			GOMAXPROCS=$p "$out/go/$b" >>"$out/$b.$p.go"
		done
	done
	for n in $(names <"$out/$b.${procs%% *}.gort"); do
		for p in $procs; do
			gm=$(value "$n" <"$out/$b.$p.gort" | median)
			om=$(value "$n" <"$out/$b.$p.go" | median)
			# A twin that names its results differently would compare against 0.
			[ "$(value "$n" <"$out/$b.$p.go" | wc -l)" -eq "$runs" ] ||
				{ echo "bench: bench/go/$b does not report $n on every run" >&2; exit 1; }
			u=$(unit "$n" <"$out/$b.$p.gort")
			printf '%-14s %5s %14s %14s %8.2f\n' "$n" "$p" "$gm $u" "$om $u" \
				"$(awk -v a="$gm" -v b="$om" 'BEGIN {print a / b}')"
		done
	done
done
echo "medians of $runs runs; ratio = gort / Go (lower is better for gort)"

[ -n "$traced" ] || exit 0
echo
printf '%-14s %5s %24s %24s %7s %7s\n' "tracing on" procs "gort off -> on" "go off -> on" "gort x" "go x"
for b in $traced; do
	for p in $procs; do
		for side in gort gort.traced go go.traced; do : >"$out/$b.$p.$side"; done
		for ((i = 0; i < runs; i++)); do
			GORT_MAXPROCS=$p "$out/$b" >>"$out/$b.$p.gort"
			GORT_MAXPROCS=$p GORT_TRACE="$out/trace.gort" "$out/$b" >>"$out/$b.$p.gort.traced"
			GOMAXPROCS=$p "$out/go/$b" >>"$out/$b.$p.go"
			GOMAXPROCS=$p BENCH_TRACE="$out/trace.go" "$out/go/$b" >>"$out/$b.$p.go.traced"
		done
		n=$(names <"$out/$b.$p.gort" | head -1)
		g=$(value "$n" <"$out/$b.$p.gort" | median)
		gt=$(value "$n" <"$out/$b.$p.gort.traced" | median)
		o=$(value "$n" <"$out/$b.$p.go" | median)
		ot=$(value "$n" <"$out/$b.$p.go.traced" | median)
		u=$(unit "$n" <"$out/$b.$p.gort")
		printf '%-14s %5s %24s %24s %7.1f %7.1f\n' "$n" "$p" "$g -> $gt $u" "$o -> $ot $u" \
			"$(awk -v a="$gt" -v b="$g" 'BEGIN {print a / b}')" "$(awk -v a="$ot" -v b="$o" 'BEGIN {print a / b}')"
	done
done
echo "medians of $runs runs; x = traced / untraced (lower is better)"
rm -f "$out/trace.gort" "$out/trace.go"
