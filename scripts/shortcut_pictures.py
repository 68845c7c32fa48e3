#!/usr/bin/env python3
"""PNG grids of a shortcut dataset made by `bin/irevnet data shortcut` (standard library only).

    python3 scripts/shortcut_pictures.py OUT_DIR PICTURE.png [SCALE]

One column per class (the first test image of that class, and for train the first training
image of that class). Rows, top to bottom: the class's pattern alone on a black image (from
shortcut.json), train, consistent test, randomised test (same image, a wrong label's pattern),
removed test (the base image). Pixels are magnified SCALE times (default 4), with a 2-pixel
grey grid between images.
"""
import json
import struct
import sys
import zlib
from pathlib import Path


def read_idx(path):
    data = Path(path).read_bytes()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        per = rows * cols
        return [data[16 + i * per:16 + (i + 1) * per] for i in range(n)], rows, cols
    return list(data[8:8 + n]), None, None


def pattern(desc, label, rows, cols):
    """The label's pattern on a black image, as shortcut.json describes it."""
    img = bytearray(rows * cols)
    if desc["kind"] == "binary-code":
        code = desc["binary-code"]
        cell = code["cell_pixels"]
        for j, bit in enumerate(code["codes"][label]):
            if bit == "1":
                r0, c0 = code["cell_origins"][j]
                for r in range(r0, r0 + cell):
                    for c in range(c0, c0 + cell):
                        img[r * cols + c] = code["lit_value"]
    else:
        tex = desc["texture"]
        tile, t = tex["tiles"][label], tex["tile_pixels"]
        for r in range(rows):
            for c in range(cols):
                img[r * cols + c] = tex["value"] if tile[r % t][c % t] == "1" else 0
    return bytes(img)


def write_png(path, width, height, rows_of_bytes):
    raw = b"".join(b"\x00" + bytes(r) for r in rows_of_bytes)
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)


def main():
    out, picture = Path(sys.argv[1]), sys.argv[2]
    scale = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    desc = json.loads((out / "shortcut.json").read_text())
    k = len(desc["class_names"])
    train, rows, cols = read_idx(out / "train-images-idx3-ubyte")
    train_y, _, _ = read_idx(out / "train-labels-idx1-ubyte")
    test_y, _, _ = read_idx(out / "t10k-labels-idx1-ubyte")
    variants = [read_idx(out / v / "t10k-images-idx3-ubyte")[0]
                for v in ("consistent", "randomised", "removed")]
    grid = []
    for y in range(k):
        i, j = train_y.index(y), test_y.index(y)
        grid.append([pattern(desc, y, rows, cols), train[i]] + [v[j] for v in variants])
    gap, grey = 2, 128
    w = k * cols * scale + (k + 1) * gap
    h = len(grid[0]) * rows * scale + (len(grid[0]) + 1) * gap
    canvas = [bytearray([grey]) * w for _ in range(h)]
    for col, images in enumerate(grid):
        for row, img in enumerate(images):
            top, left = gap + row * (rows * scale + gap), gap + col * (cols * scale + gap)
            for r in range(rows * scale):
                line = canvas[top + r]
                for c in range(cols * scale):
                    line[left + c] = img[(r // scale) * cols + c // scale]
    write_png(picture, w, h, canvas)


if __name__ == "__main__":
    main()
