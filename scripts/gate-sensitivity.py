#!/usr/bin/env python3
"""Measure the tapbench gate on this machine.

A stored baseline of a few small cells defines what is run. Then, in the chosen mode:
  - REPS A/A gates (the same code against itself), counting how often the gate fails
    (false alarms);
  - for each injected slowdown (a percentage of each cell's baseline median, added to every
    operation with --inject-delay-ns), REPS gates per cell, counting how often the gate
    flags that cell as a time regression.

Modes:
  interleaved  `gate --baseline-exe`: the baseline build and this build run launch by launch,
               alternating (here both are this build), as the CI job does.
  stored       the stored baseline against a fresh run measured minutes later.

Prints a Markdown summary: the false-alarm rate and the smallest slowdown detected in every
repetition. Nothing is retried.

    python3 scripts/gate-sensitivity.py [--mode interleaved|stored] [--reps 10]
        [--profile smoke] [--launches 10] [--slowdowns 5,10,20]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAPBENCH = os.path.join(ROOT, "target", "release", "tapbench")

# Small cells on two runtimes: sub-microsecond calls and spawns, whose times move with the
# machine's state, and timer-bound cells (ten 1 ms sleeps), whose times hardly move.
SELECTIONS = [
    ["--runtime", "tokio-ct,smol-local", "--workload", "value_task,spawn",
     "--variant", "boxed,spawn_await", "--param", "sync_ratio=1"],
    ["--runtime", "tokio-ct,smol-local", "--workload", "when_all", "--variant", "join_all",
     "--param", "n=10", "--param", "op=sleep_1ms"],
]


# Verdicts that are neither a regression nor a pass.
NOT_JUDGED = ("multimodal_not_judged", "one_launch_not_judged")


def tapbench(*args, check=True):
    out = subprocess.run([TAPBENCH, *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        sys.exit(f"tapbench {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["interleaved", "stored"], default="interleaved")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--slowdowns", default="5,10,20")
    args = parser.parse_args()
    slowdowns = [float(s) for s in args.slowdowns.split(",")]

    if not os.path.exists(TAPBENCH):
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "tapbench"], cwd=ROOT,
                       check=True)
    started = time.time()
    work = tempfile.mkdtemp(prefix="tapbench-gate-")
    # A copy of the binary plays the baseline's build.
    old_exe = os.path.join(work, "tapbench-baseline")
    shutil.copy2(TAPBENCH, old_exe)
    base_path = os.path.join(work, "baseline.json")
    baseline = None
    for i, selection in enumerate(SELECTIONS):
        part_path = os.path.join(work, f"baseline-{i}.json")
        tapbench("run", "--profile", args.profile, "--launches", str(args.launches),
                 "--no-report", "--out", part_path, *selection)
        with open(part_path) as f:
            part = json.load(f)
        if baseline is None:
            baseline = part
        else:
            baseline["cells"] += part["cells"]
    with open(base_path, "w") as f:
        json.dump(baseline, f)
    cells = [c for c in baseline["cells"] if c["status"] == "ok"]
    print(f"baseline: {len(cells)} cells, {args.profile} profile, {args.launches} launches, "
          f"mode {args.mode}", file=sys.stderr)

    counter = [0]

    def gate(base_file, extra=()):
        counter[0] += 1
        out_path = os.path.join(work, f"gate-{counter[0]}.json")
        cmd = ["gate", "--baseline", base_file, "--format", "json", "--out", out_path,
               "--launches", str(args.launches), *extra]
        if args.mode == "interleaved":
            cmd += ["--baseline-exe", old_exe]
        out = tapbench(*cmd, check=False)
        # 0 passed, 1 regressed, 3 inconclusive (no regression, some cells not judged).
        if out.returncode not in (0, 1, 3):
            sys.exit(f"gate failed ({out.returncode}): {out.stderr.strip()}")
        return out.returncode, json.loads(out.stdout)

    # A/A.
    alarms, cell_alarms, not_judged = 0, 0, 0
    detects = {c["id"]: [] for c in cells}
    for i in range(args.reps):
        code, report = gate(base_path)
        alarms += code == 1
        cell_alarms += report["regressions"]
        skipped = report["multimodal"] + report["one_launch"]
        not_judged += skipped
        for v in report["cells"]:
            if v["detectable_ns"] is not None and v["base_median_ns"]:
                detects[v["id"]].append(100.0 * v["detectable_ns"] / v["base_median_ns"])
        print(f"A/A {i + 1}/{args.reps}: exit {code} ({report['outcome']}), "
              f"{report['regressions']} regressed, {skipped} not judged", file=sys.stderr)

    # Injected slowdowns, one cell at a time (a baseline file holding only that cell).
    detected, unjudged = {}, {}
    for cell in cells:
        one = dict(baseline, cells=[cell])
        one_path = os.path.join(work, "one-cell.json")
        with open(one_path, "w") as f:
            json.dump(one, f)
        for pct in slowdowns:
            delay = max(1, round(cell["time_ns_per_op"]["median"] * pct / 100.0))
            hits, skipped = 0, 0
            for _ in range(args.reps):
                _, report = gate(one_path, ["--inject-delay-ns", str(delay)])
                hits += report["cells"][0]["time"] == "regression"
                skipped += report["cells"][0]["time"] in NOT_JUDGED
            detected[(pct, cell["id"])] = hits
            unjudged[(pct, cell["id"])] = skipped
            print(f"+{pct:g}% ({delay} ns) on {cell['id']}: {hits}/{args.reps} "
                  f"({skipped} not judged)", file=sys.stderr)

    print(f"# Gate sensitivity ({args.mode}, {args.profile} profile, {args.launches} launches "
          f"per cell, {args.reps} repetitions, {time.time() - started:.0f} s)\n")
    print(f"- A/A false alarms: {alarms} of {args.reps} gates failed ({cell_alarms} of "
          f"{args.reps * len(cells)} cell verdicts were regressions, {not_judged} not judged).")
    everywhere = [p for p in slowdowns
                  if all(detected[(p, c["id"])] == args.reps for c in cells)]
    if everywhere:
        print(f"- Smallest injected slowdown detected in {args.reps} of {args.reps} "
              f"repetitions on every cell: {min(everywhere):g}%.")
    else:
        print("- No injected slowdown was detected in every repetition on every cell.")
    print("\nDetected: repetitions in which the gate flagged the injected slowdown (in "
          "brackets: how many of the others were not judged). Detects: the median over the "
          "A/A gates of the smallest change the gate would have flagged (its `detects` "
          "column).\n")
    print("| cell | median ns/op | detects | " + " | ".join(f"+{p:g}%" for p in slowdowns)
          + " |")
    print("|---|---:|---:|" + "---:|" * len(slowdowns))
    for c in cells:
        row = " | ".join(
            f"{detected[(p, c['id'])]}/{args.reps}"
            + (f" ({unjudged[(p, c['id'])]})" if unjudged[(p, c["id"])] else "")
            for p in slowdowns)
        d = sorted(detects[c["id"]])
        d = f"+{d[len(d) // 2]:.0f}%" if d else "-"
        print(f"| {c['id']} | {c['time_ns_per_op']['median']:.1f} | {d} | {row} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
