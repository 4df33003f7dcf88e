# common.sh — sourced by the bench scripts: CPU pinning, free ports, and the
# background processes killed on exit.

# Every process on one CPU: on this kind of VM a cross-core wake-up costs
# ~30 us and lands at random, which makes medians bimodal (25 or 57 us for the
# same direct call); on one core the figures repeat to within a microsecond.
pin=()
command -v taskset > /dev/null && taskset -c 0 true 2>/dev/null && pin=(taskset -c 0)
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()   # append with pids+=($!) in this shell, never inside $(…)
# The library's health memory is shared by all of a user's processes: the
# bench keeps its own, so that a breaker opened elsewhere (a provider really
# down, a test) cannot turn a pass-through row into a fallback.
bench_runtime=$(mktemp -d)
export XDG_RUNTIME_DIR=$bench_runtime
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$bench_runtime"; }
trap cleanup EXIT
