#!/usr/bin/env bash
# Runs every benchmark against its Go twin in bench/go/, side by side, for GORT_MAXPROCS=GOMAXPROCS=1 and 2, and prints one table of
# medians with the ratio gort/Go (below 1: gort is faster).
#
#   bench/run.sh [build-dir]          (make bench)
#   RUNS=7 BENCHES="yield spawn" bench/run.sh
#
# Runs alternate gort and Go so that both see the same machine noise.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
runs=${RUNS:-5}
procs=${PROCS:-"1 2"}
benches=${BENCHES:-"spawn yield skynet"}
out="$build/bench"
mkdir -p "$out/go"

command -v go >/dev/null || { echo "bench: 'go' not found (scripts/deps.sh bench installs it)" >&2; exit 1; }

# The skynet benchmark is the demo itself, quiet.
source_of() { if [ -f "$top/bench/$1.c" ]; then echo "$top/bench/$1.c"; else echo "$top/examples/$1.c"; fi; }
args_of() { [ -f "$top/bench/$1.c" ] || echo -q; }

for b in $benches; do
	cc -std=gnu11 -O2 -g -I"$top/include" -o "$out/$b" "$(source_of "$b")" "$build/libgort.a" -lpthread
	(cd "$top/bench/go" && GOCACHE="$build/gocache" GOPATH="$build/gopath" GOFLAGS=-mod=mod \
		go build -o "$out/go/$b" "./$b")
done

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
value() { awk -v n="$1" '$1 == n {print $2}'; }

printf '%-14s %5s %14s %14s %8s\n' benchmark procs gort go ratio
for b in $benches; do
	for p in $procs; do
		g=() o=() unit=
		for ((i = 0; i < runs; i++)); do
			line=$(GORT_MAXPROCS=$p "$out/$b" $(args_of "$b"))
			unit=$(awk '{print $3}' <<<"$line")
			g+=("$(value "$b" <<<"$line")")
			o+=("$(GOMAXPROCS=$p "$out/go/$b" | value "$b")")
		done
		gm=$(printf '%s\n' "${g[@]}" | median)
		om=$(printf '%s\n' "${o[@]}" | median)
		printf '%-14s %5s %14s %14s %8.2f\n' "$b" "$p" "$gm $unit" "$om $unit" \
			"$(awk -v a="$gm" -v b="$om" 'BEGIN {print a / b}')"
	done
done
echo "medians of $runs runs; ratio = gort / Go (lower is better for gort)"
