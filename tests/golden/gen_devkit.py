"""A miniature ImageNet devkit for bmc's meta.mat reader (datasets/mat_file.h) and the flat-val
labelling (datasets/imagenet.h), written with scipy.io.savemat like the devkit's MATLAB files.

Run with Debian's python3-scipy:  /usr/bin/python3 tests/golden/gen_devkit.py
Writes tests/golden/devkit/:
  meta.mat               synsets (5x1 struct array, the devkit's fields), zlib-compressed
  meta_uncompressed.mat  the same, uncompressed
  ILSVRC2012_validation_ground_truth.txt   IDs 2 3 1 2 for ILSVRC2012_val_00000001..4
Leaves: ID 1 = n01484850, ID 2 = n01440764, ID 3 = n01443537 (not in WNID order, as in the real
devkit); IDs 4 and 5 are inner synsets (num_children > 0).
"""
import os

import numpy as np
import scipy.io

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "devkit")
FIELDS = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height",
          "num_train_images"]


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = [
        (1, "n01484850", "great white shark", "large aggressive shark", 0, np.zeros((1, 0)), 0, 1300),
        (2, "n01440764", "tench, Tinca tinca", "freshwater dace-like game fish", 0, np.zeros((1, 0)), 0, 1300),
        (3, "n01443537", "goldfish, Carassius auratus", "small golden or orange-red freshwater fishes", 0,
         np.zeros((1, 0)), 0, 1300),
        (4, "n02512053", "fish", "any of various mostly cold-blooded aquatic vertebrates", 2,
         np.array([[1.0, 2.0]]), 1, 0),
        (5, "n00015388", "animal, animate being", "a living organism", 1, np.array([[4.0]]), 2, 0),
    ]
    synsets = np.empty((5, 1), dtype=[(f, "O") for f in FIELDS])
    for i, row in enumerate(rows):
        for f, v in zip(FIELDS, row):
            synsets[i, 0][f] = np.array([[float(v)]]) if isinstance(v, int) else v
    scipy.io.savemat(os.path.join(OUT, "meta.mat"), {"synsets": synsets}, do_compression=True)
    scipy.io.savemat(os.path.join(OUT, "meta_uncompressed.mat"), {"synsets": synsets}, do_compression=False)
    with open(os.path.join(OUT, "ILSVRC2012_validation_ground_truth.txt"), "w") as f:
        f.write("2\n3\n1\n2\n")
    back = scipy.io.loadmat(os.path.join(OUT, "meta.mat"), squeeze_me=True)["synsets"]
    assert [str(s["WNID"]) for s in back] == [r[1] for r in rows]


if __name__ == "__main__":
    main()
