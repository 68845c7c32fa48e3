#!/usr/bin/env python3
"""Make fashion-mnist-mini: a class-balanced subset of Fashion-MNIST.

Reads the Debian package dataset-fashion-mnist (IDX files under
/usr/share/datasets/fashion-mnist) and writes, next to this script,
600 training images per class (6,000) and 100 test images per class (1,000)
as gzipped IDX files with the standard names, and classes.txt (the class
names in label order, one per line).

Deterministic: the images of each class are drawn with random.Random(SEED)
(without replacement), the chosen source indices are sorted so that the
subset keeps the order of the original files, and the gzip streams carry no
file name and mtime 0, so running the script again gives byte-identical files.

Python 3 standard library only.  Usage:
    python3 make_mini.py [SOURCE_DIR] [OUT_DIR]
"""
import gzip
import hashlib
import os
import random
import struct
import sys

SEED = 20240601
PER_CLASS = {"train": 600, "t10k": 100}
NUM_CLASSES = 10
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx(path, magic, ndims):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got = struct.unpack(">I", data[:4])[0]
    if got != magic:
        sys.exit(f"{path}: wrong magic number 0x{got:08X}, expected 0x{magic:08X}")
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    header = 4 + 4 * ndims
    item = 1
    for d in dims[1:]:
        item *= d
    if len(data) != header + dims[0] * item:
        sys.exit(f"{path}: length {len(data)} does not match header {dims}")
    return dims, data[header:], item


def write_gz(path, payload):
    with open(path, "wb") as raw:
        # filename='' and mtime=0 keep the output byte-identical between runs.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(payload)


def make_split(src, out, prefix, per_class, rng):
    (n, rows, cols), pixels, item = read_idx(
        os.path.join(src, f"{prefix}-images-idx3-ubyte.gz"), IMAGES_MAGIC, 3)
    (m,), labels, _ = read_idx(
        os.path.join(src, f"{prefix}-labels-idx1-ubyte.gz"), LABELS_MAGIC, 1)
    if m != n:
        sys.exit(f"{prefix}: {n} images but {m} labels")
    by_class = [[] for _ in range(NUM_CLASSES)]
    for i, y in enumerate(labels):
        by_class[y].append(i)
    chosen = []
    for c in range(NUM_CLASSES):
        if len(by_class[c]) < per_class:
            sys.exit(f"{prefix}: class {c} has only {len(by_class[c])} images")
        chosen.extend(rng.sample(by_class[c], per_class))
    chosen.sort()
    k = len(chosen)
    img = bytearray(struct.pack(">IIII", IMAGES_MAGIC, k, rows, cols))
    lab = bytearray(struct.pack(">II", LABELS_MAGIC, k))
    for i in chosen:
        img += pixels[i * item:(i + 1) * item]
        lab.append(labels[i])
    for name, payload in ((f"{prefix}-images-idx3-ubyte.gz", img),
                          (f"{prefix}-labels-idx1-ubyte.gz", lab)):
        path = os.path.join(out, name)
        write_gz(path, bytes(payload))
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"{name}: {k} items, {os.path.getsize(path)} bytes, sha256 {digest}")


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    if not os.path.isdir(src):
        sys.exit(f"{src}: no such directory (apt-get install dataset-fashion-mnist)")
    rng = random.Random(SEED)
    for prefix in ("train", "t10k"):  # fixed order: the draws depend on it
        make_split(src, out, prefix, PER_CLASS[prefix], rng)
    with open(os.path.join(out, "classes.txt"), "w", encoding="utf-8") as f:
        f.write("".join(name + "\n" for name in CLASS_NAMES))


if __name__ == "__main__":
    main()
