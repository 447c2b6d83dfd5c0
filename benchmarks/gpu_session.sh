#!/usr/bin/env bash
# The GPU checks of issue #16 in one call, for a session that is lent a GPU machine (an NVIDIA
# H200 with CuPy, PyTorch and JAX, and no package registry): tests/test_cupy.py, the CPU
# stand-in's tests for comparison, and benchmarks/gpu.py (srcgrad, hand-written CuPy, PyTorch,
# jax.jit; float32; median of synchronized runs). Everything it prints also lands under $OUT.
#
# gast, srcgrad's one dependency that machine lacks, travels as a wheel. Once, here, in the root
# of the checkout the session was started in (the one the device tool sends):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux2014_x86_64 -d .whl "gast==0.7.0"
# then call the device tool's run with carry [".whl"] and the command
#   bash benchmarks/gpu_session.sh
# and a timeout_s of about 540 (the steps below stop themselves well before: about 7 minutes
# together at most, most of it jax.jit's compilation and the benchmark's repeats).
# Results: $OUT/session.log (all of it), $OUT/test_cupy.log, $OUT/strict_device.log,
# $OUT/gpu.log and $OUT/gpu.json (the benchmark's numbers).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/srcgrad_gpu_session}"
mkdir -p "$OUT"
exec > >(tee "$OUT/session.log") 2>&1
export PYTHONUNBUFFERED=1
SECONDS=0

if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! python3 -c "import gast" 2>/dev/null; then
  echo "gast is missing: carry .whl with its wheel (see the top of this script)"
  exit 1
fi

echo "=== machine"
nvidia-smi -L || true
python3 - <<'EOF'
import sys
print("python", sys.version.split()[0])
for name in ("numpy", "gast", "cupy", "torch", "jax"):
    try:
        module = __import__(name)
        print(f"{name} {getattr(module, '__version__', '?')}")
    except Exception as error:  # noqa: BLE001
        print(f"{name}: not importable ({error})")
import srcgrad
print("srcgrad from", srcgrad.__file__)
EOF

status=0
echo "=== tests/test_cupy.py (after ${SECONDS}s)"
timeout 240 python3 -m pytest -q -p no:cacheprovider tests/test_cupy.py -rs 2>&1 \
  | tee "$OUT/test_cupy.log" || status=1

echo "=== tests/test_strict_device.py, the CPU stand-in, for comparison (after ${SECONDS}s)"
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/test_strict_device.py 2>&1 \
  | tail -5 | tee "$OUT/strict_device.log" || status=1

echo "=== benchmarks/gpu.py (after ${SECONDS}s)"
timeout 300 python3 benchmarks/gpu.py --require-gpu --dtype float32 --repeat 20 \
  --json "$OUT/gpu.json" 2>&1 | tee "$OUT/gpu.log" || status=1

echo "=== done after ${SECONDS}s, status $status"
exit $status
