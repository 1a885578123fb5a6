#!/usr/bin/env bash
# tools/gpu_check.sh: the GPU checks of issue #9 (device placement, mixed precision) on a CUDA machine, one command,
# about 5 minutes on one H100/H200 once the -Pcuda artifacts are in the local Maven repository.
#   1. build with -Pcuda (GPU natives) and probe cuda:0 with a 1-step T-RevSNN run
#   2. `spikerev parity --device cuda:0` on every golden fixture (strict float32: no TF32, deterministic cuDNN)
#   3. CudaDeviceTest: training on cuda:0 in float32 / bf16 / fp16, GPU-written checkpoints load on the CPU (same keys,
#      dtypes, alias groups as a CPU run), resume on the GPU, a CPU-written checkpoint evaluated on the GPU
#   4. T-RevSNN training-step (and inference) speed on cuda:0: fp32, bf16, fp16 (`bench speed --json`)
# Everything lands in ${GPU_CHECK_OUT:-target/gpu-check} (one log per step, bench-*.json, summary.txt).
# Exit status: 0 when every step passed, 1 when a check failed, 3 when the build or the CUDA probe failed.
#
# Needs: an NVIDIA GPU + driver, Java 17, Maven, and the -Pcuda artifacts (org.bytedeco pytorch linux-x86_64-gpu,
# cuda, cuda-redist, 1.5.13; ~850 MB) in ~/.m2 -- or network access with MVN_FLAGS="-B" (default "-B -o", offline).
# cuBLAS/cuDNN/NCCL are not in those jars: they come from a CUDA 13.1 + cuDNN 9 install on the library path.
# Environment: GPU_CHECK_OUT, MVN_FLAGS, BENCH_ARGS (default "--model tiny --img 224 --batch 64 --classes 1000
# --steps 20 --warmup 5"), SPIKEREV_JAVA_OPTS.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${GPU_CHECK_OUT:-target/gpu-check}
mkdir -p "$out"
read -r -a mvn_flags <<<"${MVN_FLAGS:--B -o}"
read -r -a bench_args <<<"${BENCH_ARGS:---model tiny --img 224 --batch 64 --classes 1000 --steps 20 --warmup 5}"
summary="$out/summary.txt"
: >"$summary"
fail=0
t0=$SECONDS
say() { echo "$*" | tee -a "$summary"; }
step() { echo; say "== $* ($((SECONDS - t0)) s)"; }

step "1/4 build -Pcuda"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$summary" || true
if ! mvn "${mvn_flags[@]}" -q -Pcuda -DskipTests package >"$out/build.log" 2>&1; then
  tail -n 20 "$out/build.log"
  say "FAIL build (see $out/build.log; offline builds need the -Pcuda artifacts in ~/.m2, else MVN_FLAGS=-B)"
  exit 3
fi
printf cuda >target/build-profile.txt # ./spikerev then uses this build as it is
cp="target/spikerev.jar:$(cat target/classpath.txt)"
# spikerev LIMIT_S ARGS...: the CLI of this build, stopped after LIMIT_S seconds
spikerev() { local limit=$1; shift; timeout "$limit" java ${SPIKEREV_JAVA_OPTS:-} -cp "$cp" dev.spikerev.cli.SpikeRev "$@"; }
if ! spikerev 300 bench speed --device cuda:0 --model 8,16,16,16 --img 32 --batch 2 --classes 10 --steps 1 --warmup 0 \
    >"$out/probe.log" 2>&1; then
  tail -n 20 "$out/probe.log"
  say "FAIL CUDA probe (see $out/probe.log: missing libcudnn/libcublas/libnccl on the library path shows up here)"
  exit 3
fi
say "probe ok: $(grep 'train step' "$out/probe.log")"

step "2/4 parity --device cuda:0 on every fixture"
for meta in $(find src/test/resources/fixtures -name meta.json | sort); do
  dir=$(dirname "$meta")
  name=${dir#src/test/resources/fixtures/}
  log="$out/parity-${name//\//_}.txt"
  if spikerev 300 parity --fixture "$dir" --device cuda:0 >"$log" 2>&1; then
    say "PASS $name: $(grep '^parity:' "$log")"
  else
    say "FAIL $name: $(grep '^parity:' "$log" || tail -n 1 "$log")"
    grep -E 'FAIL|error' "$log" | head -n 5 | sed 's/^/    /' | tee -a "$summary"
    fail=1
  fi
done

step "3/4 CudaDeviceTest (train fp32/bf16/fp16 on cuda:0, GPU checkpoints on the CPU, resume, eval)"
rm -f target/surefire-reports/*CudaDeviceTest*
timeout 600 mvn "${mvn_flags[@]}" -q -Pcuda test -Dtest=CudaDeviceTest -Dsurefire.failIfNoSpecifiedTests=false >"$out/cuda-test.log" 2>&1
report=$(cat target/surefire-reports/dev.spikerev.train.CudaDeviceTest.txt 2>/dev/null | grep 'Tests run' || echo "no report")
if [[ "$report" == *"Failures: 0, Errors: 0, Skipped: 0"* ]]; then
  say "PASS $report"
else
  say "FAIL $report (see $out/cuda-test.log; Skipped > 0 means the test JVM saw no CUDA device)"
  fail=1
fi

step "4/4 T-RevSNN training-step speed on cuda:0 (${bench_args[*]})"
for amp in none bf16 fp16; do
  if spikerev 300 bench speed --device cuda:0 --amp "$amp" "${bench_args[@]}" --json "$out/bench-$amp.json" \
      >"$out/bench-$amp.txt" 2>&1; then
    say "amp $amp: $(grep 'java   train step' "$out/bench-$amp.txt" | sed 's/java   //'); $(grep 'java   inference' "$out/bench-$amp.txt" | sed 's/java   //')"
  else
    say "FAIL bench amp $amp: $(tail -n 1 "$out/bench-$amp.txt")"
    fail=1
  fi
done

echo
say "gpu_check: $([[ $fail == 0 ]] && echo 'all passed' || echo 'FAILURES above') in $((SECONDS - t0)) s; logs in $out"
exit $fail
