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
# Then TRACED programs (default: yield pingpong) run again.  First gort's,
# against the same programs built on a library whose tracer is compiled
# out (-DGORT_NOTRACE, in <build-dir>/notrace), alternating, OFF_RUNS (41)
# times each: what the tracer costs while no trace is written.  Then each
# side with and without its execution tracer (GORT_TRACE for gort,
# BENCH_TRACE for the Go twin: bench/go/benchutil), the four runs
# alternating: what tracing costs each side, as traced / untraced.  Both tables divide each run by
# its neighbour and give the median of those ratios: the noise here comes
# in phases of minutes, which a ratio of medians would mix in.
#
# Between the two, the NET benchmarks (default: httpd echo idle_httpd
# idle_echo) pit the example servers (examples/httpd.c, examples/echo.c,
# built against this build's libgort.a) against their Go twins (net/http,
# net), each server a process of its own at GORT_MAXPROCS=GOMAXPROCS=
# NET_PROCS (2) on 127.0.0.1, its load generator sharing the machine's
# cores with it:
#   httpd       wrk -t2 -c NET_CONNS (64) for NET_SECS (3) seconds: requests/s
#   echo        bench/netload.c, NET_CONNS connections each doing 64-byte
#               round trips for NET_SECS seconds: round trips/s
#   idle_httpd  NET_IDLE (10000) connections, each made, used for one
#   idle_echo   request and left idle: the server's VmRSS, in all and per
#               connection
# The servers listen on NET_PORT (18080) to NET_PORT+3 and are killed when
# a run ends, however the script ends.  Only the network table, or one row:
#   BENCHES= TRACED= bench/run.sh
#   BENCHES= TRACED= NET=httpd RUNS=3 NET_SECS=5 bench/run.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
runs=${RUNS:-5}
procs=${PROCS:-"1 2"}
benches=${BENCHES-"spawn yield skynet defer panic pingpong chan_buffered select mutex ring skynet_chan timers idlemem"}
traced=${TRACED-"yield pingpong"}
off_runs=${OFF_RUNS:-41}
net=${NET-"httpd echo idle_httpd idle_echo"}
net_procs=${NET_PROCS:-2}
net_secs=${NET_SECS:-3}
net_conns=${NET_CONNS:-64}
net_idle=${NET_IDLE:-10000}
net_port=${NET_PORT:-18080}
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

# The network benchmarks' servers are examples; their client is plain C,
# the same for both sides.
if [ -n "$net" ]; then
	case " $net " in *" httpd "*)
		command -v wrk >/dev/null || { echo "bench: 'wrk' not found (scripts/deps.sh bench installs it)" >&2; exit 1; } ;;
	esac
	cc -std=gnu11 -O2 -g -o "$out/netload" "$top/bench/netload.c" -lpthread
	for s in httpd echo; do
		cc -std=gnu11 -O2 -g -I"$top/include" -o "$out/$s" "$top/examples/$s.c" "$build/libgort.a" \
			$(pkg-config --libs libunwind libdw) -lpthread $([ $s != httpd ] || echo -lhttp_parser)
		(cd "$top/bench/go" && GOCACHE="$build/gocache" GOPATH="$build/gopath" GOFLAGS=-mod=mod \
			go build -o "$out/go/$s" "./$s")
	done
fi

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
value() { awk -v n="$1" '$1 == n {print $2}'; }
unit() { awk -v n="$1" '$1 == n {print $3; exit}'; }
names() { awk '!seen[$1]++ {print $1}'; }
# Result n in file a divided by the one in file b, each run by the one
# made just before or after it, which saw the same phase of the machine's
# noise: every such ratio (ratios), or their median (paired).
ratios() { paste <(value "$1" <"$2") <(value "$1" <"$3") | awk '{print $1 / $2}'; }
paired() { ratios "$@" | median; }
# A ratio as a change in percent.
percent() { awk -v r="$1" 'BEGIN {print (r - 1) * 100}'; }
# The middle half of a sample: its first and third quartiles.
quartiles() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+3)/4)], v[int((3*NR+3)/4)]}'; }

# Every run's lines are kept, per program, processor count and side, in
# $out/<program>.<procs>.{gort,go}; the rows are computed from them once all
# the runs of a program are done.
[ -z "$benches" ] || printf '%-14s %5s %14s %14s %8s\n' benchmark procs gort go ratio
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
[ -z "$benches" ] || echo "medians of $runs runs; ratio = gort / Go (lower is better for gort)"

# ------------------------------------------------------------- network
#
# A run starts the server, waits until its port accepts, loads it, stops
# it.  The trap stops a server left running by a failure or an interrupt.
server=
stop_server() {
	[ -n "$server" ] || return 0
	kill "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
	server=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() { # binary port
	accepts "$2" && { echo "bench: port $2 is in use (NET_PORT moves the servers)" >&2; exit 1; }
	GORT_MAXPROCS=$net_procs GOMAXPROCS=$net_procs "$1" "$2" 127.0.0.1 >>"$out/net.log" 2>&1 &
	server=$!
	for ((t = 0; t < 200; t++)); do
		accepts "$2" && return 0
		kill -0 "$server" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench: $1 does not accept connections on port $2 (see $out/net.log)" >&2
	exit 1
}

# Loads the server on port, prints its result lines.
load() { # benchmark port
	case $1 in
	httpd)
		wrk -t2 -c"$net_conns" -d"${net_secs}s" "http://127.0.0.1:$2/" >"$out/wrk.out"
		if grep -qE 'Socket errors|Non-2xx' "$out/wrk.out"; then
			echo "bench: wrk saw errors:" >&2
			grep -E 'Socket errors|Non-2xx' "$out/wrk.out" >&2
		fi
		awk '$1 == "Requests/sec:" {print "httpd", $2, "req/s"}' "$out/wrk.out" ;;
	echo) "$out/netload" echo -c "$net_conns" -d "$net_secs" 127.0.0.1 "$2" ;;
	idle_httpd) "$out/netload" idle -H -c "$net_idle" -p "$server" 127.0.0.1 "$2" ;;
	idle_echo) "$out/netload" idle -c "$net_idle" -p "$server" 127.0.0.1 "$2" ;;
	*) echo "bench: no network benchmark $1" >&2; exit 1 ;;
	esac
}

# Rates get whole numbers, memory three digits.
show() { awk -v v="$1" -v u="$2" 'BEGIN {printf(v >= 100 ? "%.0f %s" : "%.3g %s", v, u)}'; }

if [ -n "$net" ]; then
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	case " $net " in *" idle_"*)
		[ "$(ulimit -n)" -gt $((net_idle + 100)) ] ||
			{ echo "bench: $net_idle idle connections need more descriptors than ulimit -n allows (NET_IDLE)" >&2; exit 1; } ;;
	esac
	: >"$out/net.log"
	[ -z "$benches" ] || echo
	printf '%-16s %5s %14s %14s %8s %7s\n' network procs gort go ratio better
	for b in $net; do
		s=${b#idle_}
		case $s in httpd) port=$net_port ;; echo) port=$((net_port + 2)) ;; *) port=0 ;; esac
		: >"$out/net.$b.gort"
		: >"$out/net.$b.go"
		for ((i = 0; i < runs; i++)); do
			start_server "$out/$s" "$port"
			load "$b" "$port" >>"$out/net.$b.gort"
			stop_server
			start_server "$out/go/$s" $((port + 1))
			load "$b" $((port + 1)) >>"$out/net.$b.go"
			stop_server
		done
		for n in $(names <"$out/net.$b.gort"); do
			gm=$(value "$n" <"$out/net.$b.gort" | median)
			om=$(value "$n" <"$out/net.$b.go" | median)
			[ "$(value "$n" <"$out/net.$b.go" | wc -l)" -eq "$runs" ] ||
				{ echo "bench: the Go $s does not give $n on every run" >&2; exit 1; }
			u=$(unit "$n" <"$out/net.$b.gort")
			case $u in */s) better=higher ;; *) better=lower ;; esac
			printf '%-16s %5s %14s %14s %8.2f %7s\n' "$n" "$net_procs" "$(show "$gm" "$u")" "$(show "$om" "$u")" \
				"$(awk -v a="$gm" -v b="$om" 'BEGIN {print a / b}')" "$better"
		done
	done
	echo "medians of $runs runs; ratio = gort / Go: above 1 is better for gort where higher is (rates),"
	echo "below 1 where lower is (memory)"
fi

[ -n "$traced" ] || exit 0
make -s -C "$top" BUILD="$build/notrace" CFLAGS="-O2 -g -DGORT_NOTRACE" "$build/notrace/libgort.a"
for b in $traced; do
	cc -std=gnu11 -O2 -g -I"$top/include" -o "$out/$b.notrace" "$(source_of "$b")" "$build/notrace/libgort.a" \
		$(pkg-config --libs libunwind libdw) -lpthread
done
echo
# One processor's runs are pinned to one CPU: unpinned, a process's
# switch runs at one of two speeds (README, "Where the time goes"), a
# difference of 25% that pairs of runs do not cancel.
cpu=$(awk '/^Cpus_allowed_list/ {split($2, c, /[-,]/); print c[1]}' /proc/self/status)
printf '%-14s %5s %14s %14s %8s %16s\n' "tracing off" procs "compiled out" "compiled in" cost "middle half"
for b in $traced; do
	for p in $procs; do
		pin=()
		[ "$p" != 1 ] || ! command -v taskset >/dev/null || pin=(taskset -c "$cpu")
		: >"$out/$b.$p.out"
		: >"$out/$b.$p.in"
		for ((i = 0; i < off_runs; i++)); do
			GORT_MAXPROCS=$p "${pin[@]}" "$out/$b.notrace" >>"$out/$b.$p.out"
			GORT_MAXPROCS=$p "${pin[@]}" "$out/$b" >>"$out/$b.$p.in"
		done
		n=$(names <"$out/$b.$p.out" | head -1)
		a=$(value "$n" <"$out/$b.$p.out" | median)
		c=$(value "$n" <"$out/$b.$p.in" | median)
		u=$(unit "$n" <"$out/$b.$p.out")
		read -r q1 q3 < <(ratios "$n" "$out/$b.$p.in" "$out/$b.$p.out" | quartiles)
		printf '%-14s %5s %14s %14s %+7.1f%% %+7.1f..%+.1f%%\n' "$n" "$p" "$a $u" "$c $u" \
			"$(percent "$(paired "$n" "$out/$b.$p.in" "$out/$b.$p.out")")" "$(percent "$q1")" "$(percent "$q3")"
	done
done
echo "medians of $off_runs runs, one processor's pinned to CPU $cpu; cost = compiled in / compiled out - 1,"
echo "the median over pairs of runs, and the middle half of those pairs; no trace written"

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
			"$(paired "$n" "$out/$b.$p.gort.traced" "$out/$b.$p.gort")" \
			"$(paired "$n" "$out/$b.$p.go.traced" "$out/$b.$p.go")"
	done
done
echo "medians of $runs runs; x = traced / untraced, the median over pairs of runs (lower is better)"
rm -f "$out/trace.gort" "$out/trace.go"
