#!/usr/bin/env bash
# with-fallback.sh — wrap a CI job's test step in llmfallback.
#
#   with-fallback.sh [--config FILE] [--max-fallbacks N] [--max-fallback-share F] -- COMMAND [ARGS...]
#
# Each option may be written --option=VALUE too, as `llmfallback report`
# takes its two limits.
#
# Runs COMMAND (and every process it starts) with the library preloaded, all
# writing one log, then prints `llmfallback report` for that log. The job's
# processes share the health memory (the breaker and the retry budget live in
# one small file per user, in $XDG_RUNTIME_DIR or /dev/shm), so a dead
# primary costs its timeout a few times, not once per process.
#
# Exit status: 2, before COMMAND runs, for an unknown option or a limit out
# of its range; COMMAND's when it failed; otherwise 1 when a --max-* limit
# was given and more calls than that needed a fallback (a member answered
# them, or they failed after their members did too: a degraded provider is
# noticed, not hidden); otherwise 0.
#
# LLMFALLBACK names the wrapper (default: llmfallback on PATH, as installed
# by `make install`); LLMFALLBACK_CI_LOG the log (default: a new file in
# $RUNNER_TEMP or /tmp, kept for the job's artefacts).
set -uo pipefail
llmfallback=${LLMFALLBACK:-llmfallback}
config="" limits=()
usage() { sed -n '4p' "$0" | sed 's/^# //' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --config) [ $# -ge 2 ] || usage; config=$2; shift 2 ;;
        --config=*) config=${1#*=}; shift ;;
        --max-fallbacks|--max-fallback-share) [ $# -ge 2 ] || usage; limits+=("$1" "$2"); shift 2 ;;
        --max-fallbacks=*|--max-fallback-share=*) limits+=("$1"); shift ;;   # (report reads this spelling too)
        --) shift; break ;;
        -*) echo "with-fallback: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
# the limits are checked before the job runs, not after it (an empty log:
# the report's own check of them, and nothing else)
if [ ${#limits[@]} -gt 0 ]; then
    "$llmfallback" report "${limits[@]}" /dev/null > /dev/null || exit 2
fi
log=${LLMFALLBACK_CI_LOG:-$(mktemp "${RUNNER_TEMP:-/tmp}/llmfallback-XXXXXX.log")}
echo "with-fallback: logging LLM calls to $log" >&2

"$llmfallback" ${config:+--config "$config"} --log "$log" -- "$@"
status=$?

[ -n "${GITHUB_ACTIONS:-}" ] && echo "::group::llmfallback report"
"$llmfallback" report "${limits[@]}" "$log"
verdict=$?
[ -n "${GITHUB_ACTIONS:-}" ] && echo "::endgroup::"
[ "$status" -ne 0 ] && exit "$status"
exit "$verdict"
