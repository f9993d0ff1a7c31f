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

# Offline GPU hosts: no build isolation (it would fetch setuptools); if the editable install still
# fails, the package runs from the checkout (only the `irnext` console script is then missing).
if ! python -m pip install -q --no-deps --no-build-isolation -e . >"$out/install.log" 2>&1; then
  tail -5 "$out/install.log"
  echo "editable install failed: running the package from the checkout"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
python -c "import irnext, spandrel, spandrel_extra_arches" \
  || echo "spandrel missing: the baselines' cells will record errors, IRNeXt's still run"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true

# The files holding the CUDA-only tests (collecting every file would import the CPU-only extras).
python -m pytest -q -m gpu tests/test_metrics.py tests/test_cost_fast.py tests/test_cost_latency.py \
  -p no:cacheprovider 2>&1 | tee "$out/gpu_tests.log" || status=1

python -m pytest -q -s benchmarks/bench_metrics.py -p no:cacheprovider \
  --benchmark-min-rounds=3 --benchmark-max-time=0.5 --benchmark-json="$out/metrics.json" \
  2>&1 | tee "$out/bench_metrics.log" || status=1

python benchmarks/gpu_suite.py --out "$out/gpu" --budget-s "$budget" 2>&1 \
  | tee "$out/gpu_suite.log" || status=1
exit $status
