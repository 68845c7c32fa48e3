#!/usr/bin/env python3
"""Loads a fi-revnet-s weights.npz exported by irevnet-workbench into the PyTorch twin
(../shared/bench/torch_fi_revnet.py) and reports its accuracy on the shipped mini test set and its
reconstruction error: the same number as `irevnet eval` means both frameworks compute the same
function. Usage: /usr/bin/python3 scripts/torch_crosscheck.py RUN/checkpoints/best/weights.npz
"""
import sys, gzip, json, struct, numpy as np, torch
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'bench'))
import torch_fi_revnet as tw
torch.set_num_threads(1)
w = np.load(sys.argv[1])
# The bundled fi-revnet-s floors the coupling scale (docs/decisions.md): patch the twin to match.
arch = json.load(open(os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), 'model.json')))
floor = arch['stages'][0].get('scaleFloor', 0.0)
def _st(self, x1):
    h = self.net(x1); raw, t = h.chunk(2, 1)
    return floor + (1 - floor) * torch.sigmoid(raw + 2.0), t
tw.AffineCoupling._st = _st
net = tw.FiRevNet()
sd = {k: torch.from_numpy(w[k]) for k in w.files}
missing, unexpected = net.load_state_dict(sd, strict=False)
print("missing", missing, "unexpected (first 3)", unexpected[:3], len(unexpected))
def idx(p):
    b = gzip.open(p).read()
    magic, n = struct.unpack('>II', b[:8])
    if magic == 2051:
        r, c = struct.unpack('>II', b[8:16]); return np.frombuffer(b, np.uint8, offset=16).reshape(n, 1, r, c)
    return np.frombuffer(b, np.uint8, offset=8)
x = idx('data/fashion-mnist-mini/t10k-images-idx3-ubyte.gz').astype(np.float32) / 255.0
y = idx('data/fashion-mnist-mini/t10k-labels-idx1-ubyte.gz')
x = torch.nn.functional.pad(torch.from_numpy(x), (2, 2, 2, 2))
with torch.no_grad():
    z, ld = net(x)
    acc = (z[:, :10].argmax(1).numpy() == y).mean()
    xr = net.inverse(z)
print("pytorch twin accuracy with our weights:", acc, "recon err", (xr - x).abs().max().item())
