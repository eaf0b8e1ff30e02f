#!/usr/bin/env python3
"""Measure the tapbench gate on this machine: false alarms and detection, per cell.

Five cells, one of each kind the gate must serve, on tokio-ct:

  sub-10 ns        value_task/inline (sync_ratio 1): a call that completes synchronously
  allocation-bound value_task/boxed (sync_ratio 1): one boxed future per call
  spawn-bound      spawn/spawn_await
  channel-bound    producer_consumer/native_channel, bounded, one producer, one consumer
  timer-bound      when_all/join_all over ten 1 ms sleeps

A baseline of those cells is measured once. Then, in the chosen mode:
  - REPS_AA A/A gates of all five cells (the same code against itself), counting the gates
    that fail (false alarms) and the cell verdicts that are regressions or not judged;
  - for each injected slowdown (a percentage of each cell's baseline median in the
    machine's fast state - see fast_state_median - busy-spun in every operation with --inject-delay-ns, fractions of a nanosecond included), REPS gates
    of that cell alone, counting how often the gate flags it as a time regression.
Every gate's wall time is recorded. Nothing is retried. The gate runs with --threshold 1 and
--noise-ns 0, so that the figures show what the measurement resolves: with the defaults (5%,
1 ns) a change of 5% or less, or under a nanosecond, never counts, by design.

Modes:
  paired   `gate --baseline-exe`: the baseline's build (here a copy of this build) and this
           build run launch by launch, and launch i of each side are judged as a pair.
  lockstep `gate --baseline-exe --lockstep`: as paired, but each pair's two processes run at
           once and take turns, warm-up and then sample by sample.
  stored   the stored baseline against a fresh run of this build measured minutes later.

Prints a Markdown summary; --raw FILE keeps every gate's verdict as JSON.

    python3 scripts/gate-sensitivity.py --mode paired|lockstep|stored [--launches 12] [--reps-aa 20]
        [--reps 10] [--slowdowns 2,3,5,10,20] [--profile smoke] [--raw FILE]

Interleaved modes default to the gate's own default of launches a side (60); stored mode to
10.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAPBENCH = os.path.join(ROOT, "target", "release", "tapbench")

# (kind, selection): each selection picks exactly one cell.
CELLS = [
    ("sub-10 ns", ["--workload", "value_task", "--variant", "inline", "--param", "sync_ratio=1"]),
    ("allocation-bound",
     ["--workload", "value_task", "--variant", "boxed", "--param", "sync_ratio=1"]),
    ("spawn-bound", ["--workload", "spawn", "--variant", "spawn_await"]),
    ("channel-bound",
     ["--workload", "producer_consumer", "--variant", "native_channel", "--param", "bounded=true",
      "--param", "producers=1", "--param", "consumers=1"]),
    ("timer-bound",
     ["--workload", "when_all", "--variant", "join_all", "--param", "n=10",
      "--param", "op=sleep_1ms"]),
]
RUNTIME = "tokio-ct"

# Verdicts that are neither a regression nor a pass.
NOT_JUDGED = ("multimodal_not_judged", "one_launch_not_judged", "state_not_judged",
              "not_comparable")


def fast_state_median(cell):
    """The cell's median cost in the machine's fast state: the median of the launches whose
    machine-speed probe lies within 10% of the fastest (the judge's PROBE_STEP). The gate
    judges pairs, or stored launches, in a common state, and the injected spin is a fixed
    time, so a slowdown defined on a median taken in the slow state (20-80% dearer for small
    operations) would be a larger slowdown in every fast-state pair."""
    t = cell["time_ns_per_op"]
    medians, probes = t.get("launch_medians") or [], t.get("probe_ns") or []
    if len(probes) != len(medians) or not medians or min(probes) <= 0:
        return t["median"]
    fastest = min(probes)
    kept = [m for m, p in zip(medians, probes) if math.log(p / fastest) <= 0.10]
    return statistics.median(kept)


def tapbench(*args, check=True):
    out = subprocess.run([TAPBENCH, *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        sys.exit(f"tapbench {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["paired", "lockstep", "stored"], default="paired")
    parser.add_argument("--reps-aa", type=int, default=20, help="A/A gates (default 20)")
    parser.add_argument("--reps", type=int, default=10, help="gates per slowdown and cell")
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--launches", type=int, default=None,
                        help="launches a side (default: 60 paired and lockstep, as the gate; "
                             "10 stored)")
    parser.add_argument("--slowdowns", default=None,
                        help="percentages (default: 2,3,5,10,20 paired; "
                             "2,3,5,10,20,50,100 stored)")
    parser.add_argument("--raw", help="write every gate's verdict to this JSON file")
    args = parser.parse_args()
    interleaved = args.mode in ("paired", "lockstep")
    launches = args.launches or (60 if interleaved else 10)
    slowdowns = [float(s) for s in (args.slowdowns or (
        "2,3,5,10,20" if interleaved else "2,3,5,10,20,50,100")).split(",")]

    if not os.path.exists(TAPBENCH):
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "tapbench"], cwd=ROOT,
                       check=True)
    started = time.time()
    work = tempfile.mkdtemp(prefix="tapbench-gate-")
    # A copy of the binary plays the baseline's build.
    old_exe = os.path.join(work, "tapbench-baseline")
    shutil.copy2(TAPBENCH, old_exe)
    baseline = None
    kinds = {}
    for i, (kind, selection) in enumerate(CELLS):
        part_path = os.path.join(work, f"baseline-{i}.json")
        tapbench("run", "--profile", args.profile, "--launches", str(launches), "--no-report",
                 "--out", part_path, "--runtime", RUNTIME, *selection)
        with open(part_path) as f:
            part = json.load(f)
        ok = [c for c in part["cells"] if c["status"] == "ok"]
        if len(ok) != 1:
            sys.exit(f"the {kind} selection measured {len(ok)} cells, not 1")
        kinds[ok[0]["id"]] = kind
        part["cells"] = ok
        if baseline is None:
            baseline = part
        else:
            baseline["cells"] += ok
    base_path = os.path.join(work, "baseline.json")
    with open(base_path, "w") as f:
        json.dump(baseline, f)
    cells = baseline["cells"]
    print(f"baseline: {len(cells)} cells, {args.profile} profile, {launches} launches, "
          f"mode {args.mode}", file=sys.stderr)

    raw = []

    def gate(base_file, what, extra=()):
        out_path = os.path.join(work, f"gate-{len(raw)}.json")
        cmd = ["gate", "--baseline", base_file, "--format", "json", "--out", out_path,
               "--launches", str(launches), "--threshold", "1", "--noise-ns", "0", *extra]
        if interleaved:
            cmd += ["--baseline-exe", old_exe, "--profile", args.profile]
        if args.mode == "lockstep":
            cmd += ["--lockstep"]
        t0 = time.time()
        out = tapbench(*cmd, check=False)
        seconds = time.time() - t0
        # 0 passed, 1 regressed, 3 inconclusive.
        if out.returncode not in (0, 1, 3):
            sys.exit(f"gate failed ({out.returncode}): {out.stderr.strip()}")
        report = json.loads(out.stdout)
        # Each side's launch medians and probe times, cell by cell, for later analysis.
        launches_of = {}
        for side, path in (("current", out_path),
                           ("baseline", out_path.replace(".json", "-baseline.json"))):
            if os.path.exists(path):
                with open(path) as f:
                    for c in json.load(f)["cells"]:
                        t = c.get("time_ns_per_op") or {}
                        launches_of.setdefault(c["id"], {})[side] = {
                            "launch_medians": t.get("launch_medians", []),
                            "probe_ns": t.get("probe_ns", [])}
                os.remove(path)
        if not interleaved:
            # The stored baseline's launches, to judge the same gates again offline.
            with open(base_file) as f:
                for c in json.load(f)["cells"]:
                    if c["id"] in launches_of:
                        t = c.get("time_ns_per_op") or {}
                        launches_of[c["id"]]["baseline"] = {
                            "launch_medians": t.get("launch_medians", []),
                            "probe_ns": t.get("probe_ns", [])}
        raw.append({"what": what, "exit": out.returncode, "seconds": seconds,
                    "report": report, "launches": launches_of})
        return out.returncode, report, seconds

    # A/A: all cells at once.
    aa_exits = []
    aa_regressed, aa_not_judged = {}, {}
    detects = {c["id"]: [] for c in cells}
    widths = {c["id"]: [] for c in cells}
    for i in range(args.reps_aa):
        code, report, seconds = gate(base_path, "A/A")
        aa_exits.append(code)
        for v in report["cells"]:
            aa_regressed[v["id"]] = aa_regressed.get(v["id"], 0) + (v["time"] == "regression"
                                                                    or v["allocs"] == "regression")
            aa_not_judged[v["id"]] = aa_not_judged.get(v["id"], 0) + (v["time"] in NOT_JUDGED)
            if v["detectable_ns"] is not None and v["base_median_ns"]:
                detects[v["id"]].append(100.0 * v["detectable_ns"] / v["base_median_ns"])
            if v.get("ratio_ci95"):
                lo, hi = v["ratio_ci95"]
                widths[v["id"]].append(100.0 * (hi - lo))
        print(f"A/A {i + 1}/{args.reps_aa}: exit {code} ({report['outcome']}), "
              f"{report['regressions']} regressed, {report['not_judged']} not judged, "
              f"{seconds:.0f} s", file=sys.stderr)

    # Injected slowdowns, one cell at a time (a baseline file holding only that cell).
    detected, unjudged, seconds_per_gate = {}, {}, {c["id"]: [] for c in cells}
    for cell in cells:
        one = dict(baseline, cells=[cell])
        one_path = os.path.join(work, "one-cell.json")
        with open(one_path, "w") as f:
            json.dump(one, f)
        for pct in slowdowns:
            delay = fast_state_median(cell) * pct / 100.0
            hits, skipped = 0, 0
            for _ in range(args.reps):
                _, report, seconds = gate(one_path, f"+{pct:g}% {cell['id']}",
                                          ["--inject-delay-ns", f"{delay:.4f}"])
                seconds_per_gate[cell["id"]].append(seconds)
                verdict = report["cells"][0]["time"]
                hits += verdict == "regression"
                skipped += verdict in NOT_JUDGED
            detected[(pct, cell["id"])] = hits
            unjudged[(pct, cell["id"])] = skipped
            print(f"+{pct:g}% ({delay:.3f} ns) on {cell['id']}: {hits}/{args.reps} "
                  f"({skipped} not judged)", file=sys.stderr)

    if args.raw:
        with open(args.raw, "w") as f:
            json.dump({"mode": args.mode, "profile": args.profile, "launches": launches,
                       "gates": raw}, f)

    aa_failed = sum(code == 1 for code in aa_exits)
    aa_inconclusive = sum(code == 3 for code in aa_exits)
    mode = {"paired": "paired (interleaved launch by launch, `--baseline-exe`)",
            "lockstep": "paired in lock-step (`--baseline-exe --lockstep`)",
            "stored": "stored baseline against a fresh run"}[args.mode]
    print(f"# Gate sensitivity: {mode}, {args.profile} profile, {launches} launches a side\n")
    print(f"Measured in {(time.time() - started) / 60:.0f} min on {RUNTIME}; nothing retried.\n")
    print(f"- A/A: {aa_failed} of {args.reps_aa} gates failed (exit 1), {aa_inconclusive} "
          f"inconclusive (exit 3), {args.reps_aa - aa_failed - aa_inconclusive} passed; "
          f"median wall time of an A/A gate of {len(cells)} cells "
          f"{statistics.median([g['seconds'] for g in raw if g['what'] == 'A/A'] or [0]):.0f} s.")
    everywhere = [p for p in slowdowns
                  if all(detected[(p, c["id"])] == args.reps for c in cells)]
    if everywhere:
        print(f"- Smallest injected slowdown caught in {args.reps} of {args.reps} gates on "
              f"every cell: +{min(everywhere):g}%.")
    else:
        print("- No injected slowdown was caught in every gate on every cell.")
    print("\nA/A: of the A/A gates, how many flagged the cell (regressions) and how many did "
          "not judge it. Detects: the median over the A/A gates of the smallest change the "
          "gate would have flagged. +N%: gates out of "
          f"{args.reps} that flagged the injected slowdown (in brackets: not judged). "
          "A/A interval: the median width of the paired ratio's 95% interval in the A/A "
          "gates, in percent (how close in time the pairs are shows here). "
          "Gate time: median wall time of one gate of the cell.\n")
    print("| kind | cell | median ns/op | A/A flagged | A/A not judged | A/A interval | detects | "
          + " | ".join(f"+{p:g}%" for p in slowdowns) + " | gate time |")
    print("|---|---|---:|---:|---:|---:|---:|" + "---:|" * len(slowdowns) + "---:|")
    for c in cells:
        row = " | ".join(
            f"{detected[(p, c['id'])]}/{args.reps}"
            + (f" ({unjudged[(p, c['id'])]})" if unjudged[(p, c["id"])] else "")
            for p in slowdowns)
        d = sorted(detects[c["id"]])
        d = f"+{d[len(d) // 2]:.1f}%" if d else "-"
        w = f"{statistics.median(widths[c['id']]):.1f}%" if widths[c["id"]] else "-"
        print(f"| {kinds[c['id']]} | {c['id']} | {c['time_ns_per_op']['median']:.1f} "
              f"(fast state {fast_state_median(c):.1f}) | "
              f"{aa_regressed.get(c['id'], 0)}/{args.reps_aa} | "
              f"{aa_not_judged.get(c['id'], 0)}/{args.reps_aa} | {w} | {d} | {row} | "
              f"{statistics.median(seconds_per_gate[c['id']]):.1f} s |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
