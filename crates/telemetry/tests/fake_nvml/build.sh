#!/bin/sh
# Build the fake NVML library for system tests: build.sh OUT_DIR -> OUT_DIR/libnvidia-ml.so.1
# Then run Steward with STEWARD_NVML_LIB=OUT_DIR/libnvidia-ml.so.1 (and FAKE_NVML_GPU_COUNT=N,
# FAKE_NVML_MIG_GPU=G to put GPU G in MIG mode).
set -eu
out="${1:?usage: build.sh OUT_DIR}"
mkdir -p "$out"
${CC:-cc} -shared -fPIC -O1 -o "$out/libnvidia-ml.so.1" "$(dirname "$0")/fake_nvml.c"
echo "$out/libnvidia-ml.so.1"
