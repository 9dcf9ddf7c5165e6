"""How far bmc's ImageNet evaluation pixels are from PIL + torchvision's on the same JPEGs.

bmc: `bmc data sample DIR --out F` (decode with stb_image, resize the shorter side to 256 with its
antialiased triangle filter, center crop 224). Reference: PIL.Image.open(...).convert("RGB"),
torchvision.transforms.Resize(256) (bilinear with antialias on PIL images) and CenterCrop(224).
Prints the share of pixel values within 1 intensity level and the largest difference. With
--resize and --crop equal to the images' size (and the same for `bmc data sample`) the transform is
the identity and the comparison measures the JPEG decoders alone.

Run with Debian's python3-torch, python3-torchvision and python3-pil:
  build/bmc data sample DIR --out /tmp/s.safetensors --count 64 [--split train]
  /usr/bin/python3 bench/e2e/pil_eval_transform.py /tmp/s.safetensors [--resize 256 --crop 224]
"""
import argparse
import json
import struct

import numpy as np
import torchvision.transforms as T
from PIL import Image


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        e = header["images"]
        f.seek(base + e["data_offsets"][0])
        images = np.frombuffer(f.read(e["data_offsets"][1] - e["data_offsets"][0]), dtype=np.uint8).reshape(e["shape"])
        return images, header["__metadata__"]["files"].split("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sample")
    ap.add_argument("--resize", type=int, default=256)
    ap.add_argument("--crop", type=int, default=224)
    a = ap.parse_args()
    images, files = read(a.sample)
    tf = T.Compose([T.Resize(a.resize), T.CenterCrop(a.crop)])
    diffs = []
    for img, f in zip(images, files):
        ref = np.asarray(tf(Image.open(f).convert("RGB")), dtype=np.int16)  # HWC
        diffs.append(np.abs(img.transpose(1, 2, 0).astype(np.int16) - ref).ravel())
    d = np.concatenate(diffs)
    print(f"{len(files)} images, {d.size} pixel values: within 1 level {100 * np.mean(d <= 1):.3f}%, "
          f"exact {100 * np.mean(d == 0):.2f}%, max difference {d.max()}")


if __name__ == "__main__":
    main()
