#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [TARGET...]: builds the libFuzzer targets in fuzz/ with clang
# (ASan + UBSan) and runs each for SECONDS (default 60). Targets: idx cifar image pth safetensors
# json cli (default: all).
# Installs clang and the libFuzzer runtime when missing (Debian: clang, libclang-rt-14-dev).
# Corpora live in build/fuzz/<target>-corpus; crashes are written to build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true
targets=("$@"); [[ ${#targets[@]} -gt 0 ]] || targets=(idx cifar image pth safetensors json cli)

CLANG="$(command -v clang++ || command -v clang++-14 || true)"
if [[ -z "$CLANG" ]] || ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long){return 0;}' |
    "$CLANG" -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  echo "fuzz.sh: installing clang and the libFuzzer runtime" >&2
  apt-get install -y clang libclang-rt-14-dev >/dev/null
  CLANG="$(command -v clang++ || command -v clang++-14)"
fi

out=build/fuzz
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. -Isrc -DBMC_HAS_CUDA=0)
# The dataset sources a target needs, plus the core they rest on (tensors, errors, logging).
core=(src/core/error.cpp src/core/log.cpp src/core/tensor.cpp src/core/shape.cpp src/core/device.cpp
      src/core/memory_pool.cpp datasets/byte_source.cpp datasets/dataset.cpp)
declare -A sources=(
  [idx]="datasets/idx.cpp datasets/mnist.cpp"
  [cifar]="datasets/cifar.cpp"
  [image]="datasets/image.cpp datasets/jpeg_decode.cpp"
  [pth]="src/io/pth.cpp src/io/pickle.cpp src/io/zip_reader.cpp src/io/mapped_file.cpp"
  [safetensors]="src/io/safetensors.cpp src/io/atomic_file.cpp"
  [json]="src/io/json_file.cpp src/io/atomic_file.cpp"
  [cli]="src/cli/args.cpp src/train/hparams.cpp src/io/atomic_file.cpp"
)
for t in "${targets[@]}"; do
  [[ -n "${sources[$t]:-}" ]] || { echo "fuzz.sh: unknown target $t (idx cifar image pth safetensors json cli)" >&2; exit 2; }
  echo "fuzz.sh: building $t" >&2
  # shellcheck disable=SC2086
  "$CLANG" "${flags[@]}" "fuzz/fuzz_$t.cpp" ${sources[$t]} "${core[@]}" -ljpeg -lz -o "$out/fuzz_$t"
  mkdir -p "$out/$t-corpus"
done
# Seeds (for the targets being built): real files when the shared datasets are present.
mkdir -p "$out"/{idx,cifar,image,pth,safetensors,json,cli}-corpus
if [[ -d ../shared/datasets/mnist ]]; then
  cp -n ../shared/datasets/mnist/t10k-labels-idx1-ubyte.gz "$out/idx-corpus/" 2>/dev/null || true
  printf '\0\0\x08\x03\0\0\0\x02\0\0\0\x02\0\0\0\x02abcdefgh' > "$out/idx-corpus/tiny.idx"
fi
if [[ -f ../shared/datasets/cifar10-jpeg/train.tar.gz && ! -f "$out/image-corpus/seed0.jpg" ]]; then
  tar -xzf ../shared/datasets/cifar10-jpeg/train.tar.gz -O train/cat/0000.jpg > "$out/image-corpus/seed0.jpg" || true
fi
head -c 3073 /dev/urandom > "$out/cifar-corpus/record.bin"
cp -n tests/golden/pth/*.pth tests/golden/pth/*.tar "$out/pth-corpus/" 2>/dev/null || true
find tests/golden -name '*.safetensors' -size -64k -exec cp -n {} "$out/safetensors-corpus/" \; 2>/dev/null || true
printf '{"step": 12, "loop": {"loss_sum": 1.5, "interval_steps": 3}}' > "$out/json-corpus/latest.json"
printf -- '--lr\0001e-3\000--training-steps=2000it\000--milestones\00080ep,120ep\000--json' > "$out/cli-corpus/args"

for t in "${targets[@]}"; do
  echo "fuzz.sh: running $t for ${seconds}s" >&2
  "$out/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$out/$t-" "$out/$t-corpus" 2>&1 | grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done" || true
done
