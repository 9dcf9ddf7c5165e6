#!/usr/bin/env bash
# scripts/fault-inject.sh KILLS BMC_ARGS...: kill -9 a bmc command at random moments, rerun it
# until it finishes, and check the result is bitwise the uninterrupted run's.
#   1. runs `build/bmc BMC_ARGS --out <tmp>/whole` once, timing it (T seconds);
#   2. runs the same command into <tmp>/killed KILLS times, each killed with SIGKILL after a
#      random delay in (0.2 s, T / 2), then once more to completion;
#   3. compares every safetensors file of the two run directories (models, masks, training state,
#      bit forms; they carry their checksums) byte for byte, and the summaries' finished flags.
# Exit 0 when all match, 1 otherwise. Example:
#   scripts/fault-inject.sh 5 train --model mnist_lenet_300_100 --training-steps 3ep --device cpu
#   scripts/fault-inject.sh 4 lottery --model mnist_lenet_300_100 --levels 2 --training-steps 1ep
set -uo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: scripts/fault-inject.sh KILLS BMC_ARGS..." >&2; exit 2; }
kills="$1"; shift
bmc=build/bmc
tmp="$(mktemp -d /tmp/bmc_fault.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

now() { python3 -c 'import time; print(time.monotonic())'; }
start=$(now)
"$bmc" "$@" --out "$tmp/whole" >/dev/null 2>"$tmp/whole.log" || { echo "the uninterrupted run failed:"; tail -3 "$tmp/whole.log"; exit 1; }
total=$(python3 -c "print(round($(now) - $start, 2))")
echo "fault-inject: uninterrupted run: ${total}s"

for ((k = 1; k <= kills; ++k)); do
  delay=$(python3 -c "import random; print(round(random.uniform(0.2, max(0.3, $total / 2)), 2))")
  "$bmc" "$@" --out "$tmp/killed" >/dev/null 2>>"$tmp/killed.log" &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    echo "fault-inject: kill $k after ${delay}s"
  else
    wait "$pid"
    echo "fault-inject: kill $k after ${delay}s came too late (the run had finished)"
  fi
done
"$bmc" "$@" --out "$tmp/killed" >/dev/null 2>>"$tmp/killed.log" || { echo "the resumed run failed:"; tail -3 "$tmp/killed.log"; exit 1; }

status=0
files=0
while IFS= read -r f; do
  rel="${f#"$tmp"/whole/}"
  other="$tmp/killed/$rel"
  files=$((files + 1))
  if [[ ! -f "$other" ]]; then
    echo "fault-inject: $rel is missing after the kills"; status=1
  elif ! cmp -s "$f" "$other"; then
    echo "fault-inject: $rel differs"; status=1
  fi
done < <(find "$tmp/whole" -name '*.safetensors' | sort)
while IFS= read -r f; do
  rel="${f#"$tmp"/whole/}"
  python3 - "$f" "$tmp/killed/$rel" <<'PY' || status=1
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
if not b.get("finished") or a.get("test_top1") != b.get("test_top1"):
    print(f"fault-inject: {sys.argv[1]}: summaries differ"); sys.exit(1)
PY
done < <(find "$tmp/whole" -name summary.json | sort)
[[ $status -eq 0 ]] && echo "fault-inject: $files safetensors files bitwise equal after $kills kills"
exit $status
