#!/usr/bin/env bash
# `infersim models`: the profile table, the roofline table (--roofline) and a model's layers
# and kernels (--graph), and their bad input (exit 2, one line).
# usage: models.sh path/to/infersim
set -u
. "$(dirname "$0")/lib.sh"
fails=0

# has NAME PATTERN ARGS...: exit 0 and stdout matching PATTERN.
has() {
  local name=$1 pattern=$2
  shift 2
  if ! "$INFERSIM" models "$@" > "$work/out" 2> "$work/err"; then
    echo "FAIL $name: exit status $?"; cat "$work/err"; fails=$((fails + 1))
  elif ! grep -Eq -- "$pattern" "$work/out"; then
    echo "FAIL $name: stdout does not match /$pattern/"; head -5 "$work/out"; fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

# bad NAME PATTERN ARGS...: exit 2 and one stderr line matching PATTERN.
bad() {
  local name=$1 pattern=$2
  shift 2
  "$INFERSIM" models "$@" > /dev/null 2> "$work/err"
  local rc=$?
  if [ "$rc" -ne 2 ] || [ "$(wc -l < "$work/err")" -ne 1 ] || ! grep -Eq -- "$pattern" "$work/err"; then
    echo "FAIL $name: exit $rc, stderr:"; cat "$work/err"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cat "$work/err")"
  fi
}

has profile_table "^resnet50_v1 +ResNet" 
# On the V100 every Clockwork row with a graph is compared at 5 batch sizes: 27 x 5 = 135.
has roofline_v100 "^all +135 " --roofline
has roofline_rows "^resnet50_v1 .* predicted$" --roofline
has roofline_measured " measured$" --roofline
has roofline_sgemm "^sgemm_conv2_2 .* predicted$" --roofline --gpu h100
has roofline_batches "L32" --roofline --batches 1,32 --gpu a100
has graph_layers "^conv1 +conv +64x112x112" --graph resnet50_v1
has graph_kernels "^56 kernels, [0-9.]+ ms on v100" --graph resnet50_v1 --batch 2
# The SMs a kernel holds: seed 003's conv2_2 GEMM on the V100 is 128 blocks of 64x64 split
# 16 ways, landing on min(80 SMs, 128 blocks) = 80 SMs, what its time assumes and what
# sm_budget reserves (not ceil(128 / 4 blocks per SM) = 32 SMs' worth of block slots).
has graph_sms_held "^kernel .* blocks +waves +SMs held " --graph sgemm_conv2_2 --gpu v100
has graph_sms_80 "^gemm +256x128x1152 \(1\) +64x64 +16 +128 +1 +80 " --graph sgemm_conv2_2 --gpu v100
has graph_unfused "kernels, [0-9.]+ ms on h200" --graph densenet121 --gpu h200 --unfused

if "$INFERSIM" models --roofline --gpu h100 | grep -q "median"; then
  echo "FAIL roofline_h100: errors printed without measurements"; fails=$((fails + 1))
else
  echo "ok   roofline_h100_no_errors"
fi

bad graph_unknown "no kernel graph for 'resnet51'" --graph resnet51
bad gpu_unknown "no GPU 'v101'" --roofline --gpu v101
bad batches "--batches expects batch sizes >= 1" --roofline --batches 1,0
bad both "--roofline and --graph exclude each other" --roofline --graph resnet50_v1

# gpus.yaml with one H100 constant changed (the line must exist, or the check is void).
h100_with() {
  sed "/^  h100:/,/^  h200:/s/$1/$2/" hardware_profiles/gpus.yaml > "$work/$3.yaml"
  grep -q "$2" "$work/$3.yaml" || { echo "FAIL $3: no '$1' in the H100's entry"; fails=$((fails + 1)); }
}
# 128 threads per SM hold no 256-thread element-wise block (this divided by zero).
h100_with "max_threads_per_sm: 2048" "max_threads_per_sm: 128" thr128
bad sm_threads "thr128.yaml:[0-9]+:[0-9]+: expected 'max_threads_per_sm' between 256 and 65536" \
  --roofline --gpu h100 --gpus-file "$work/thr128.yaml"
# 1e-300 TFLOP/s wrapped L(b) to -9.2e12 ms.
h100_with "fp32_tflops: 67" "fp32_tflops: 1e-300" tftiny
bad tflops_tiny "tftiny.yaml:[0-9]+:[0-9]+: expected 'fp32_tflops' between 0.001 and 10000" \
  --roofline --gpu h100 --gpus-file "$work/tftiny.yaml"
# The slowest GPU the bounds allow (1 GFLOP/s, 1 GB/s copies) at batch 2e9: ResNet-50's
# 7.7 GFLOP x 2e9 / 1e9 FLOP/s is about 1.5e10 s, past the 1e9 s horizon: an error at the
# architecture naming the GPU, where the sum of kernel times once wrapped.
h100_with "fp32_tflops: 67" "fp32_tflops: 0.001" slow
sed -i "/^  h100:/,/^  h200:/s/copy_bandwidth_gbs: 3012 /copy_bandwidth_gbs: 1 /" "$work/slow.yaml"
bad horizon "resnet50_v1.yaml:[0-9]+:[0-9]+: architecture 'resnet50_v1' at batch 2000000000 on GPU 'h100' \(at .*slow.yaml:[0-9]+:[0-9]+\) is outside the kernel model's range: .*beyond the time horizon" \
  --graph resnet50_v1 --gpu h100 --gpus-file "$work/slow.yaml" --batch 2000000000
bad horizon_roofline "outside the kernel model's range" \
  --roofline --gpu h100 --gpus-file "$work/slow.yaml" --batches 1,2000000000

if [ "$fails" -ne 0 ]; then echo "$fails models check(s) failed"; exit 1; fi
echo "all models checks passed"
