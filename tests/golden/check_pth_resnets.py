"""End-to-end proof of the .pth importer on torchvision ResNets (not part of `make test`: the
checkpoints are 45 and 100 MB, so they are written on the fly, never committed).

For resnet18 and resnet50: random weights and random batch-norm statistics, saved with torch.save;
a tiny ImageNet-layout folder of 224x224 PNGs (so the eval transform's resize and crop are the
identity and both sides see the same pixels); `bmc eval --checkpoint X.pth --logits L`; then
bmc's logits against PyTorch's on the same images.

Run with Debian's python3-torch and python3-torchvision, after `make`:
  /usr/bin/python3 tests/golden/check_pth_resnets.py [build/bmc]
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision
from PIL import Image



def read_safetensors_f32(path, name):
    import json
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        entry = header[name]
        f.seek(8 + n + entry["data_offsets"][0])
        count = entry["data_offsets"][1] - entry["data_offsets"][0]
        return np.frombuffer(f.read(count), dtype=np.float32).reshape(entry["shape"])


def main():
    bmc = sys.argv[1] if len(sys.argv) > 1 else "build/bmc"
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "imagenet")
        wnids = ["n01440764", "n01443537", "n01484850", "n01491361"]
        images = []
        for split in ("train", "val"):
            for c, w in enumerate(wnids):
                os.makedirs(os.path.join(data, split, w))
                for i in range(2):
                    pixels = rng.integers(0, 256, size=(224, 224, 3), dtype=np.uint8)
                    path = os.path.join(data, split, w, f"{i}.png")
                    Image.fromarray(pixels).save(path)
                    if split == "val":
                        images.append(path)
        tf = torchvision.transforms.Compose([
            torchvision.transforms.Resize(256), torchvision.transforms.CenterCrop(224),
            torchvision.transforms.ToTensor(),
            torchvision.transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
        for arch in ("resnet18", "resnet50"):
            net = getattr(torchvision.models, arch)()
            with torch.no_grad():
                for m in net.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.running_mean.uniform_(-0.1, 0.1)
                        m.running_var.uniform_(0.5, 1.5)
                        m.weight.uniform_(0.5, 1.5)
                        m.bias.uniform_(-0.1, 0.1)
            net.eval()
            ckpt = os.path.join(tmp, arch + ".pth")
            torch.save(net.state_dict(), ckpt)
            # The eval transform on 224x224 images: Resize(256) scales up, then the crop; compare
            # on bmc's exact pipeline by giving bmc --resize-size 224 and PyTorch no resize.
            x = torch.stack([torchvision.transforms.Compose(tf.transforms[2:])(Image.open(p).convert("RGB"))
                             for p in sorted(images)])
            with torch.no_grad():
                ref = net(x).numpy()
            logits = os.path.join(tmp, arch + "_logits.safetensors")
            cmd = [bmc, "eval", "--model", arch, "--data", data, "--checkpoint", ckpt, "--num-classes", "1000",
                   "--resize-size", "224", "--batch-size", "8", "--device", "cpu", "--out", os.path.join(tmp, "runs"),
                   "--logits", logits]
            subprocess.run(cmd, check=True, capture_output=True)
            got = read_safetensors_f32(logits, "logits")
            rel = np.abs(got - ref).max() / np.abs(ref).max()
            same = (got.argmax(1) == ref.argmax(1)).all()
            print(f"{arch}: {got.shape[0]} images, max |bmc - torch| / max |torch| = {rel:.2e}, argmax identical: {same}")


if __name__ == "__main__":
    main()
