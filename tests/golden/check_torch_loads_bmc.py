"""Checks that a bmc checkpoint loads into PyTorch unchanged and gives bmc's logits.

  build/bmc eval --model mnist_lenet_300_100 --checkpoint CKPT --logits /tmp/bmc_logits.safetensors
  /usr/bin/python3 tests/golden/check_torch_loads_bmc.py CKPT /tmp/bmc_logits.safetensors [MNIST_DIR]

Builds OpenLTH's module tree (gen_models.py), load_state_dict(strict=True) from the bmc
safetensors file, runs the MNIST test split with bmc's normalisation and compares the logits.
"""
import gzip
import os
import struct
import sys

import numpy as np
import torch

from fixture_io import load
from gen_models import MnistLenet


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    ckpt, logits_path = sys.argv[1], sys.argv[2]
    mnist = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "../../../shared/datasets/mnist")
    state = load(ckpt)
    model = MnistLenet([300, 100])
    model.load_state_dict(state, strict=True)
    model.eval()
    images = read_idx(os.path.join(mnist, "t10k-images-idx3-ubyte.gz")).astype(np.float32)
    x = (torch.from_numpy(images / 255.0) - 0.1307) / 0.3081
    with torch.no_grad():
        ours = model(x.view(-1, 1, 28, 28).float())
    bmc = load(logits_path)["logits"]
    diff = (ours - bmc).abs().max().item()
    agree = (ours.argmax(1) == bmc.argmax(1)).float().mean().item()
    print(f"max |torch - bmc| logit difference {diff:.3g}; argmax agreement {100 * agree:.2f}% of {len(bmc)}")
    sys.exit(0 if diff < 1e-3 and agree == 1.0 else 1)


if __name__ == "__main__":
    main()
