"""llmfallback-report.py LOG... — a summary of llmfallback's JSON-lines logs,
as tables for the terminal: calls and how they ended, fallbacks by reason
and by answering provider, latency percentiles per provider/model, and the
shadow comparisons (mode "shadow": the candidate beside the answer the
program got)."""
import argparse
import collections
import json
import math
import os
import statistics
import sys


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def table(title, head, rows):
    print(f"\n{title}")
    if not rows:
        print("  (none)")
        return
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = "  " + "  ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*head))
    print(fmt.format(*("-" * w for w in widths)))
    for r in rows:
        print(fmt.format(*r))


# The fields read from each event, and their types (absent or null: none).
NUMBER = (int, float)
FIELDS = {
    "attempt": {"pid": int, "call": int, "provider": str, "model": str, "outcome": str, "reason": str,
                "role": str, "ms": NUMBER},
    "summary": {"pid": int},
    "shadow": {"provider": str, "model": str, "outcome": str, "reason": str, "ms": NUMBER,
               "tokens_in": NUMBER, "tokens_out": NUMBER, "primary_provider": str, "primary_model": str,
               "primary_ms": NUMBER, "primary_tokens_in": NUMBER, "primary_tokens_out": NUMBER,
               "similarity": NUMBER},
}


def finite(v):
    try:
        return math.isfinite(v)   # (Python's json reads NaN, Infinity, 1e999)
    except OverflowError:         # (an integer past float's range)
        return False


def well_typed(e, fields):
    """Each field absent, null, or of its type (a number finite)."""
    for k, t in fields.items():
        v = e.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, t) or (t is NUMBER and not finite(v))):
            return False
    return True


def entry(line):
    """The log entry a line holds, or None: a log shared with a program's own
    stderr has lines that are no JSON, JSON that is no object, or an object
    whose fields are no log's."""
    try:
        e = json.loads(line)
    except (ValueError, RecursionError):   # (nested past Python's recursion limit: no log's)
        return None
    if not isinstance(e, dict) or not isinstance(e.get("event"), str):
        return None
    return e if well_typed(e, FIELDS.get(e.get("event"), {})) else None


def main(paths):
    calls = collections.OrderedDict()   # (log, pid, program, call) → attempts
    # A pid's calls are numbered from 1 again by each program it runs (a
    # wrapper that calls and then execs curl), and by a process that reuses
    # a pid in a long log: each program's calls end at its summary line.
    programs = collections.Counter()    # (log, pid) → summaries so far
    shadows = []
    bad = 0
    for n, path in enumerate(paths):
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    e = entry(line)
                    if e is None:
                        bad += 1
                    elif e.get("event") == "attempt":
                        pid = (n, e.get("pid"))
                        calls.setdefault((*pid, programs[pid], e.get("call")), []).append(e)
                    elif e.get("event") == "summary":
                        programs[(n, e.get("pid"))] += 1
                    elif e.get("event") == "shadow":
                        shadows.append(e)
        except OSError as err:
            # 2, not 1: a log that cannot be read is no verdict on the fallbacks
            print(f"llmfallback report: {path}: {err.strerror}", file=sys.stderr)
            sys.exit(2)
    outcome = collections.Counter()
    reasons = collections.Counter()
    answered_by = collections.Counter()
    latency = collections.defaultdict(list)
    failed_over = 0
    for attempts in calls.values():
        tried = [a for a in attempts if a.get("outcome") != "skipped"]
        for a in tried:
            ms = a.get("ms")
            latency[f"{a.get('provider')}/{a.get('model')}"].append(float(ms) if isinstance(ms, (int, float)) else 0.0)
        ok = [a for a in tried if a.get("outcome") == "ok"]
        # the plan starts with the original, or (mode override) with the
        # candidate and then the original
        own = [a for a in attempts if a.get("role") != "override"]
        original = (own[0].get("provider"), own[0].get("model")) if own else (None, None)
        # the original's 3xx, handed to the program to follow: no failure
        handed = tried[-1] if (tried and tried[-1].get("outcome") == "redirect" and
                               (tried[-1].get("provider"), tried[-1].get("model")) == original) else None
        for a in tried:
            if a.get("outcome") != "ok" and a is not handed:
                reasons[f"{a.get('outcome')}: {a.get('reason')}"] += 1
        for a in attempts:
            if a.get("outcome") == "skipped":
                reasons[f"skipped: {a.get('reason')}"] += 1
        # in mode override the candidate is the first choice and the
        # program's own request a fallback, as the exit summary counts them
        overridden = any(a.get("role") == "override" for a in attempts)
        if ok and ok[-1].get("role") == "override":
            outcome["answered by the override candidate"] += 1
        elif ok and not overridden and (ok[-1].get("provider"), ok[-1].get("model")) == original:
            outcome["answered by the original"] += 1
        elif ok:
            outcome["answered by a fallback"] += 1
            answered_by[ok[-1].get("provider")] += 1
        elif handed:
            outcome["redirect handed to the program"] += 1
        else:
            outcome["failed (original failure returned)"] += 1
            # (the limits count every call that needed a fallback: one whose
            # members all failed or were skipped too, not only one a member
            # answered; a call with only its original, a plain 400 say, did not)
            failed_over += len(attempts) > 1
    print(f"{len(calls)} calls in {len(paths)} log(s)" + (f", {bad} unreadable lines" if bad else ""))
    fallbacks = outcome["answered by a fallback"] + failed_over
    table("How calls ended", ("outcome", "calls"), sorted(outcome.items(), key=lambda x: -x[1]))
    table("Failures and skips seen", ("outcome: reason", "times"), reasons.most_common())
    table("Who answered after a fallback", ("provider", "calls"), answered_by.most_common())
    table("Latency per provider/model (ms)", ("provider/model", "attempts", "p50", "p90", "p99", "mean"),
          [(k, len(v), f"{pct(v, 50):.1f}", f"{pct(v, 90):.1f}", f"{pct(v, 99):.1f}", f"{statistics.fmean(v):.1f}")
           for k, v in sorted(latency.items())])
    shadow_table(shadows)
    return len(calls), fallbacks


def shadow_table(shadows):
    """One row per (candidate, what answered the program): copies sent (not
    those skipped, which the table of copies without an answer counts), how
    many the candidate answered, both sides' latency and tokens, similarity."""
    if not shadows:
        return
    groups = collections.OrderedDict()
    for e in shadows:
        key = (f"{e.get('provider')}/{e.get('model')}", f"{e.get('primary_provider')}/{e.get('primary_model')}")
        groups.setdefault(key, []).append(e)
    rows = []
    for (cand, prim), es in groups.items():
        sent = [e for e in es if e.get("outcome") != "skipped"]
        ok = [e for e in sent if e.get("outcome") == "ok"]
        def med(field, src):
            v = [float(e[field]) for e in src if isinstance(e.get(field), (int, float))]
            return f"{statistics.median(v):.1f}" if v else "-"
        def tokens(prefix, src):
            i, o = med(prefix + "tokens_in", src), med(prefix + "tokens_out", src)
            return f"{i}/{o}"
        sims = [float(e["similarity"]) for e in ok if isinstance(e.get("similarity"), (int, float))]
        rows.append((cand, prim, len(sent), f"{len(ok)}/{len(sent)}", med("ms", ok), med("primary_ms", ok),
                     tokens("", ok), tokens("primary_", ok),
                     f"{statistics.fmean(sims):.3f}" if sims else "-",
                     f"{min(sims):.3f}" if sims else "-"))
    table("Shadow comparisons (candidate beside the answer the program got; medians; tokens in/out)",
          ("candidate", "program got", "copies", "answered", "ms", "program ms", "tokens", "program tokens",
           "similarity", "lowest"), rows)
    reasons = collections.Counter(f"{e.get('outcome')}: {e.get('reason')}" for e in shadows
                                  if e.get("outcome") != "ok")
    if reasons:
        table("Shadow copies without an answer", ("outcome: reason", "times"), reasons.most_common())


def over_threshold(ncalls, fallbacks, max_count, max_share):
    """The opt-in CI check: a one-line reason when fallbacks exceeded it, else None."""
    share = fallbacks / ncalls if ncalls else 0.0
    if max_count is not None and fallbacks > max_count:
        return f"{fallbacks} of {ncalls} calls needed a fallback, more than the {max_count} allowed"
    if max_share is not None and share > max_share:
        return (f"{fallbacks} of {ncalls} calls ({share:.0%}) needed a fallback, more than the "
                f"{max_share:.0%} allowed")
    return None


def count_limit(text):
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of calls (0 or more)")
    return n


def share_limit(text):
    try:
        f = float(text)
    except ValueError:
        f = math.nan
    # (float() takes "nan", and nan > 1 is false: the range is asked for,
    # not its outside)
    if not 0 <= f <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share from 0 to 1")
    return abs(f)   # (-0 would be allowed as "-0%")


class Parser(argparse.ArgumentParser):
    def error(self, message):
        # one line, and 2: a CI job tells a mistyped limit from one exceeded (1)
        self.exit(2, f"{self.prog}: {message}\n")


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `report LOG | head`: no traceback
    sys.stdout.reconfigure(errors="backslashreplace")   # (JSON's "\ud800", a terminal's charset)
    ap = Parser(prog="llmfallback report",
                description="Summarise llmfallback logs; optionally fail when too many "
                            "calls needed a fallback (for CI). Exit status: 0, 1 when a limit was "
                            "exceeded, 2 for a usage error or a log that cannot be read.")
    ap.add_argument("--max-fallbacks", type=count_limit, metavar="N",
                    help="exit 1 when more than N calls needed a fallback (answered by one, or failed "
                         "after their members failed or were skipped)")
    ap.add_argument("--max-fallback-share", type=share_limit, metavar="F",
                    help="exit 1 when more than this share (0..1) of calls needed a fallback")
    ap.add_argument("logs", nargs="+", metavar="LOG")
    args = ap.parse_args()
    missing = [p for p in args.logs if not os.path.exists(p)]
    if missing:
        # A CI job whose tests made no LLM call writes no log: nothing to judge.
        print(f"llmfallback report: no log at {', '.join(missing)} (no recognised call was made)", file=sys.stderr)
        args.logs = [p for p in args.logs if p not in missing]
    n, fb = main(args.logs) if args.logs else (0, 0)
    why = over_threshold(n, fb, args.max_fallbacks, args.max_fallback_share)
    if why:
        print(f"llmfallback report: {why}", file=sys.stderr)
        sys.exit(1)
