#!/usr/bin/env bash
# BSQ on mnist_lenet_300_100 with the method's full schedule (350 epochs of bit-plane training at
# lr 0.1, x0.1 at 250, re-quantization every 100; then 300 epochs of fine-tuning at lr 0.01, x0.1
# at 150 and 250), one alpha after another, weights only; for each alpha also the "same scheme
# from the float model" baseline (convert --scheme, then the same fine-tuning) and the bit report.
#
#   scripts/bsq-mnist-sweep.sh runs/train_<hash>/model_final.safetensors [alpha ...]
#
# Every step is a bmc run with its own run directory, so rerunning the same command resumes an
# interrupted step from its last checkpoint and reuses the finished ones. Each finished alpha's
# summaries go to $OUT/bsq_mnist_sweep/alpha_<alpha>.json. BMC (the binary) and OUT (the runs
# root) may be set; TRAIN_FLAGS and FINETUNE_FLAGS add flags to both trainings ("--device cuda").
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 FLOAT_CHECKPOINT [alpha ...]  (default alphas: 0.005 0.01 0.02)" >&2
  exit 2
fi
BMC=${BMC:-build/bmc}
OUT=${OUT:-runs}
FP=$1
shift
ALPHAS=("$@")
[[ ${#ALPHAS[@]} -gt 0 ]] || ALPHAS=(0.005 0.01 0.02)
MODEL=(--model mnist_lenet_300_100 --out "$OUT" --json)
read -r -a TRAIN <<<"${TRAIN_FLAGS:-}"
read -r -a FINETUNE <<<"${FINETUNE_FLAGS:-}"

# The run directory of a bmc command's JSON summary (its last stdout line).
run_dir() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read().splitlines()[-1])["run_dir"])'; }
stamp() { date -u +%H:%M:%S; }

convert=$("$BMC" bsq convert "${MODEL[@]}" --checkpoint "$FP" --act none | run_dir)
echo "$(stamp) 8-bit conversion: $convert" >&2
for alpha in "${ALPHAS[@]}"; do
  echo "$(stamp) alpha $alpha: BSQ training" >&2
  trained=$("$BMC" bsq train "${MODEL[@]}" --from "$convert" --decay "$alpha" "${TRAIN[@]}" | run_dir)
  echo "$(stamp) alpha $alpha: fine-tuning $trained" >&2
  tuned=$("$BMC" bsq finetune "${MODEL[@]}" --from "$trained" "${FINETUNE[@]}" | run_dir)
  echo "$(stamp) alpha $alpha: the same scheme from the float model" >&2
  baseline=$("$BMC" bsq convert "${MODEL[@]}" --checkpoint "$FP" --act none --scheme "$trained" | run_dir)
  baseline_tuned=$("$BMC" bsq finetune "${MODEL[@]}" --from "$baseline" "${FINETUNE[@]}" | run_dir)
  # The final fine-tuned model: a run directory would give the best one, chosen on the test set.
  report=$("$BMC" bsq eval "${MODEL[@]}" --from "$tuned/model_final_bits.safetensors" | tail -n 1)
  mkdir -p "$OUT/bsq_mnist_sweep"
  result="$OUT/bsq_mnist_sweep/alpha_$alpha.json"
  python3 - "$alpha" "$convert" "$trained" "$tuned" "$baseline" "$baseline_tuned" "$report" >"$result.tmp" <<'EOF'
import json, sys
alpha, convert, trained, tuned, baseline, baseline_tuned, report = sys.argv[1:]
summary = lambda d: json.load(open(d + "/summary.json"))
print(json.dumps({"alpha": float(alpha), "convert": summary(convert), "trained": summary(trained),
                  "tuned": summary(tuned), "baseline": summary(baseline),
                  "baseline_tuned": summary(baseline_tuned), "eval": json.loads(report)}))
EOF
  mv "$result.tmp" "$result"
  echo "$(stamp) alpha $alpha: done ($result)" >&2
done
