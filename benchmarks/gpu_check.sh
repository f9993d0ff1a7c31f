#!/usr/bin/env bash
# Every GPU check of the suite in one call, on a machine with torch, torchvision and spandrel:
# install the package, run the CUDA-only tests, time the metrics per protocol, then
# benchmarks/gpu_suite.py (720p evaluation, fast-IRNeXt ladder, official table, scaling sweep).
#
#   benchmarks/gpu_check.sh OUT_DIR [BUDGET_S]
#
# Logs and results land under OUT_DIR; the exit status is non-zero when any part failed.
set -u -o pipefail
out=${1:?usage: benchmarks/gpu_check.sh OUT_DIR [BUDGET_S]}
budget=${2:-330}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
status=0

python -m pip install -q --no-deps --no-build-isolation -e . >"$out/install.log" 2>&1 \
  || { cat "$out/install.log"; exit 1; }
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true

python -m pytest -q -m gpu tests -p no:cacheprovider 2>&1 | tee "$out/gpu_tests.log" || status=1

python -m pytest -q -s benchmarks/bench_metrics.py -p no:cacheprovider \
  --benchmark-min-rounds=3 --benchmark-max-time=0.5 --benchmark-json="$out/metrics.json" \
  2>&1 | tee "$out/bench_metrics.log" || status=1

python benchmarks/gpu_suite.py --out "$out/gpu" --budget-s "$budget" 2>&1 \
  | tee "$out/gpu_suite.log" || status=1
exit $status
