#!/usr/bin/env bash
# Gate this checkout against a stored baseline, as a CI job does: run the baseline's cells
# again (same profile, parameters and threads), judge them, render the report and export
# the results for a continuous-benchmarking service.
#
#   scripts/ci-gate.sh BASELINE.json [OUT_DIR] [BASE_EXE [GATE_ARGS...]]
#
# With BASE_EXE (the base branch's build of tapbench), both builds run the baseline's cells
# interleaved, launch by launch, and the baseline file only names the cells: on a shared
# runner this is the form to trust (see "The gate" in the README). GATE_ARGS go to
# `tapbench gate` as they are, for example `--profile smoke --launches 30 --threshold 5`.
#
# Exit status: 0 every cell judged and none regressed, 1 a regression (the job should fail),
# 2 bad input or an error, 3 no regression but some cells could not be judged (multimodal,
# different machine states, measured only now; pass --accept-inconclusive in GATE_ARGS to
# make it 0). Stored runs of one launch per cell are judged only beyond the single-launch
# bound: a pass then rules out gross regressions only. OUT_DIR (default target/gate) receives current.json, gate.md, gate.json, the
# report/ directory and bmf.json.
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: scripts/ci-gate.sh BASELINE.json [OUT_DIR] [BASE_EXE]" >&2
    exit 2
fi
baseline=$1
out=${2:-target/gate}
interleave=()
if [ $# -ge 3 ]; then
    interleave=(--baseline-exe "$3" "${@:4}")
fi
cd "$(dirname "$0")/.." || exit 2

cargo build --release --locked -p tapbench || exit 2
tapbench=target/release/tapbench
mkdir -p "$out" || exit 2

"$tapbench" gate --baseline "$baseline" "${interleave[@]}" --out "$out/current.json" \
    --json-out "$out/gate.json" > "$out/gate.md"
status=$?
cat "$out/gate.md"
if [ -f "$out/current.json" ]; then
    "$tapbench" report --input "$out/current.json" --out-dir "$out/report" >&2
    "$tapbench" export --format bmf --input "$out/current.json" --out "$out/bmf.json"
fi
exit $status
