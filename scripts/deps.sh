#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that a task needs, if any are
# missing (with sudo when not root), then returns.
#
#   scripts/deps.sh demo    build the library and run the demo
#   scripts/deps.sh test    ... and run the test suite
#   scripts/deps.sh bench   ... and the benchmarks against Go
#   scripts/deps.sh ci      everything .ci/run needs (sanitizers, valgrind)
set -euo pipefail

build="gcc make binutils pkg-config libc6-dev libunwind-dev libdw-dev libhttp-parser-dev"
test="$build libcriterion-dev gdb"
case "${1:-}" in
demo) want=$build ;;
test) want=$test ;;
bench) want="$build golang-go wrk" ;;
ci) want="$test valgrind golang-go" ;;
*) echo "usage: $0 demo|test|bench|ci" >&2; exit 2 ;;
esac

missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
