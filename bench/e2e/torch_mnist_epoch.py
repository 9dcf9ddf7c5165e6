"""PyTorch CPU reference for one training epoch of mnist_lenet_300_100 (batch 128, SGD lr 0.1,
OpenLTH's defaults), with the whole dataset already in memory as normalised float tensors: the
fastest way to feed PyTorch, so the comparison favours it. Prints seconds per epoch as JSON.

Usage: /usr/bin/python3 bench/e2e/torch_mnist_epoch.py [MNIST_DIR] [--threads N]
"""
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    torch.set_num_threads(threads)
    root = args[0] if args else "../shared/datasets/mnist"
    images = read_idx(os.path.join(root, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(root, "train-labels-idx1-ubyte.gz"))
    x = (torch.from_numpy(images.astype(np.float32) / 255.0) - 0.1307) / 0.3081
    x = x.view(len(x), -1)
    y = torch.from_numpy(labels.astype(np.int64))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 300), torch.nn.ReLU(), torch.nn.Linear(300, 100),
                                torch.nn.ReLU(), torch.nn.Linear(100, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def epoch():
        perm = torch.randperm(len(x))
        for start in range(0, len(x), 128):
            idx = perm[start:start + 128]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        return loss.item()

    epoch()  # warm-up
    times = []
    for _ in range(3):
        t = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t)
    print(json.dumps({"torch_mnist_lenet_300_100_epoch_seconds": min(times), "threads": threads}))


if __name__ == "__main__":
    main()
