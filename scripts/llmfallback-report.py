"""llmfallback-report.py LOG... — a summary of llmfallback's JSON-lines logs,
as tables for the terminal: calls and how they ended, fallbacks by reason
and by answering provider, and latency percentiles per provider/model."""
import collections
import json
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


def main(paths):
    calls = collections.OrderedDict()   # (pid, call) → attempts
    bad = 0
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    bad += 1
                    continue
                if e.get("event") == "attempt":
                    calls.setdefault((e.get("pid"), e.get("call")), []).append(e)
    outcome = collections.Counter()
    reasons = collections.Counter()
    answered_by = collections.Counter()
    latency = collections.defaultdict(list)
    for attempts in calls.values():
        tried = [a for a in attempts if a.get("outcome") != "skipped"]
        for a in tried:
            latency[f"{a['provider']}/{a['model']}"].append(float(a.get("ms", 0)))
        ok = [a for a in tried if a.get("outcome") == "ok"]
        original = (attempts[0].get("provider"), attempts[0].get("model"))   # the plan starts with it
        for a in tried:
            if a.get("outcome") != "ok":
                reasons[f"{a.get('outcome')}: {a.get('reason')}"] += 1
        for a in attempts:
            if a.get("outcome") == "skipped":
                reasons[f"skipped: {a.get('reason')}"] += 1
        if ok and (ok[-1].get("provider"), ok[-1].get("model")) == original:
            outcome["answered by the original"] += 1
        elif ok:
            outcome["answered by a fallback"] += 1
            answered_by[ok[-1]["provider"]] += 1
        else:
            outcome["failed (original failure returned)"] += 1
    print(f"{len(calls)} calls in {len(paths)} log(s)" + (f", {bad} unreadable lines" if bad else ""))
    table("How calls ended", ("outcome", "calls"), sorted(outcome.items(), key=lambda x: -x[1]))
    table("Failures and skips seen", ("outcome: reason", "times"), reasons.most_common())
    table("Who answered after a fallback", ("provider", "calls"), answered_by.most_common())
    table("Latency per provider/model (ms)", ("provider/model", "attempts", "p50", "p90", "p99", "mean"),
          [(k, len(v), f"{pct(v, 50):.1f}", f"{pct(v, 90):.1f}", f"{pct(v, 99):.1f}", f"{statistics.fmean(v):.1f}")
           for k, v in sorted(latency.items())])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: llmfallback report LOG...", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1:])
