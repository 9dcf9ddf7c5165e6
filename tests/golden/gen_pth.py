"""PyTorch checkpoint fixtures for bmc's .pth reader (tests/io/test_pth.cpp), written by torch.save.

Run with Debian's python3-torch:  /usr/bin/python3 tests/golden/gen_pth.py
Writes into tests/golden/pth/ (small files, committed; tests never need torch):
  tiny_sd.pth          OrderedDict(w = arange(6).reshape(2, 3), nbt = tensor(7)), zip format
  tiny_legacy.pth      the same, legacy pickle-stream format
  dtypes.pth           one tensor per storage type bmc reads, 0-dim and empty tensors
  views.pth            tensors sharing one storage (slices, a transpose, a row) and a sliced storage
  mask.pth             OpenLTH's mask.pth: a plain dict of int32 0/1 tensors
  lenet5_examples.pth.tar  pytorch/examples-style dict: epoch, arch, state_dict (DataParallel
                       "module." keys) of a LeNet-5 in bmc's layout, best_acc1 (a float), optimizer
  lenet5_legacy.pth    the same LeNet-5 bare state dict, legacy format
  lenet5_io.safetensors  that LeNet-5's weights, a batch of inputs and PyTorch's logits
  optimizer_type.pth   Distiller-style: state_dict plus optimizer_type = torch.optim.SGD (a class)
  forbidden.pth        a pickle whose REDUCE would call os.system (never called by bmc)
  whole_model.pth      torch.save of an nn.Module (refused: it names module classes)
  bad_short_record.pth tiny_sd with data/0 cut to 20 bytes (its storage says 6 floats)
  bad_no_record.pth    tiny_sd without data/1
  bad_no_version.pth   tiny_sd without its version record
  bad_two_roots.pth    tiny_sd plus other/data.pkl
  zip64_sd.pth         tiny_sd's records in an archive whose every size and offset field is
                       saturated (0xFFFFFFFF) and carried by ZIP64 extra fields, as torch writes
                       them past 4 GiB (a real 4 GiB file is too large to commit)
"""
import collections
import os
import struct
import zipfile
import zlib

import torch
import torch.nn as nn

import fixture_io

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pth")


def path(name):
    return os.path.join(OUT, name)


class Lenet5(nn.Module):
    """bmc's mnist_lenet5 (models/lenet.cpp): conv1 relu pool conv2 relu pool flatten fc1 fc2 fc3."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2, 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2, 2)
        x = torch.flatten(x, 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class CallsSystem:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def rezip(src, dst, edit):
    """Copies the records of src into a stored zip at dst after edit(name, bytes) -> [(name, bytes)]."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            for name, data in edit(info.filename, zin.read(info.filename)):
                zout.writestr(name, data)


def zip64_variant(src, dst):
    """Rewrites src's records (stored) with every size and offset in ZIP64 extra fields."""
    with zipfile.ZipFile(src) as zin:
        records = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    out, central = bytearray(), bytearray()
    sat = 0xFFFFFFFF
    for name, data in records:
        crc = zlib.crc32(data)
        offset = len(out)
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, sat, sat, len(name), len(local_extra))
        out += name.encode() + local_extra + data
        cd_extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, sat, sat, len(name),
                               len(cd_extra), 0, 0, 0, 0, sat)
        central += name.encode() + cd_extra
    cd_offset, cd_size = len(out), len(central)
    out += central
    zip64_eocd = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(records), len(records), cd_size, cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_eocd, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records), cd_size, sat, 0)
    with open(dst, "wb") as f:
        f.write(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(7)
    tiny = collections.OrderedDict(w=torch.arange(6.0).reshape(2, 3), nbt=torch.tensor(7))
    torch.save(tiny, path("tiny_sd.pth"))
    torch.save(tiny, path("tiny_legacy.pth"), _use_new_zipfile_serialization=False)

    torch.save({
        "f16": torch.tensor([1.5, -2.0, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.5, -2.0, 3.0e38], dtype=torch.bfloat16),
        "f64": torch.tensor([1.5, -0.1], dtype=torch.float64),
        "i8": torch.tensor([-1, 2, 3], dtype=torch.int8),
        "u8": torch.tensor([1, 2, 255], dtype=torch.uint8),
        "b": torch.tensor([True, False, True]),
        "i16": torch.tensor([-300, 2], dtype=torch.int16),
        "i32": torch.tensor([-70000, 2], dtype=torch.int32),
        "i64": torch.tensor([-(2 ** 40), 5], dtype=torch.int64),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 5),
    }, path("dtypes.pth"))

    base = torch.arange(24.0).reshape(4, 6)
    torch.save({"base": base, "v1": base[1:, ::2], "v2": base.t(), "v3": base[2],
                "solo_view": torch.arange(10.0)[3:7]}, path("views.pth"))

    torch.save({"fc2.weight": (torch.rand(84, 120) > 0.5).int(), "fc3.weight": (torch.rand(10, 84) > 0.8).int()},
               path("mask.pth"))

    net = Lenet5().eval()
    sd = collections.OrderedDict((k, v.clone()) for k, v in net.state_dict().items())
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        logits = net(x)
    fixture_io.save(path("lenet5_io.safetensors"), {"x": x, "logits": logits, **sd})
    optim = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(x).sum().backward()
    optim.step()
    wrapped = collections.OrderedDict(("module." + k, v) for k, v in sd.items())
    torch.save({"epoch": 3, "arch": "lenet5", "state_dict": wrapped, "best_acc1": 98.5,
                "optimizer": optim.state_dict()}, path("lenet5_examples.pth.tar"))
    torch.save(sd, path("lenet5_legacy.pth"), _use_new_zipfile_serialization=False)

    torch.save({"state_dict": tiny, "optimizer_type": torch.optim.SGD}, path("optimizer_type.pth"))
    torch.save({"w": CallsSystem()}, path("forbidden.pth"))
    torch.save(nn.Sequential(nn.Linear(2, 2)), path("whole_model.pth"))

    src = path("tiny_sd.pth")
    rezip(src, path("bad_short_record.pth"), lambda n, d: [(n, d[:20] if n.endswith("data/0") else d)])
    rezip(src, path("bad_no_record.pth"), lambda n, d: [] if n.endswith("data/1") else [(n, d)])
    rezip(src, path("bad_no_version.pth"), lambda n, d: [] if n.endswith("/version") else [(n, d)])
    zip64_variant(src, path("zip64_sd.pth"))
    assert torch.load(path("zip64_sd.pth"))["w"].tolist() == [[0, 1, 2], [3, 4, 5]]
    rezip(src, path("bad_two_roots.pth"),
          lambda n, d: [(n, d), ("other/data.pkl", d)] if n.endswith("data.pkl") else [(n, d)])


if __name__ == "__main__":
    main()
