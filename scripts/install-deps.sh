#!/usr/bin/env bash
# Installs the Debian packages bmc needs to build and test, when they are missing.
# Called by the Makefile (once per build tree) and by .ci/run; safe to run by hand.
# Optional: BMC_WITH_TORCH=1 also installs python3-torch, torchvision, PIL and SciPy (golden
# fixtures, reference benchmarks, the .pth, PIL and devkit scripts).
set -euo pipefail

required=(g++ make libopenblas-dev libopenblas-openmp-dev libstb-dev libjpeg-dev nlohmann-json3-dev zlib1g-dev libgtest-dev libbenchmark-dev fonts-dejavu-core libopenmpi-dev openmpi-bin)
[ "${BMC_WITH_TORCH:-0}" = 1 ] && required+=(python3-torch python3-torchvision python3-pil python3-scipy)

missing=()
for pkg in "${required[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bmc: installing missing Debian packages: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
