#!/usr/bin/env python3
"""PyTorch port of irevnet-workbench's invertible models, built from an export's files alone.

`bin/irevnet export --run RUN --out DIR` writes DIR/model.json (the architecture), DIR/weights.npz
(PyTorch names and layouts) and DIR/check.npz (inputs with the workbench's outputs in float32 and
float64). This file rebuilds the model from model.json with PyTorch, loads the weights, and
compares its outputs with check.npz: the same numbers show that both frameworks compute the same
function, and the port is then yours to use (`load(DIR)` returns the torch.nn.Module).

Usage: python3 scripts/torch_port.py DIR [--json]
Prints the largest differences per output and precision, and the round trip F^-1(F(x)) - x; exit
0 when z, log-det and logits agree to 1e-9 in float64 and 1e-3 in float32 (relative to 1 + the
output's largest magnitude) and the float64 round trip is within 1e-6 (1 + max |x|), 1 when not, 2
on a file it cannot use or without PyTorch and NumPy (Debian: python3-torch).

The layers follow the Java classes of the same names (org.irevnet.layers); their docs give the
formulas. Only model.json's fields are read: a change of the Java builder's naming or order needs
the same change here, and the cross-check test (ModelExportTorchTest) says so.
"""
import argparse, json, math, os, sys, zipfile, zlib

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # a python3 without them gave a traceback
    print(f"torch_port: needs PyTorch and NumPy ({e}; Debian: apt-get install python3-torch)",
          file=sys.stderr)
    sys.exit(2)


class SpaceToDepth(nn.Module):
    """i-RevNet's psi: output channel (dh*b + dw)*c + ci at (i, j) holds input (ci, i*b + dh, j*b + dw)."""
    def __init__(self, b=2):
        super().__init__(); self.b = b

    def forward(self, x):
        n, c, h, w = x.shape; b = self.b
        y = x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4)
        return y.reshape(n, b * b * c, h // b, w // b), x.new_zeros(n)

    def inverse(self, y):
        n, cb, h, w = y.shape; b = self.b; c = cb // (b * b)
        x = y.reshape(n, b, b, c, h, w).permute(0, 3, 4, 1, 5, 2)
        return x.reshape(n, c, h * b, w * b)


class InjectivePad(nn.Module):
    """Appends `pad` zero channels; the inverse drops the last `pad` channels."""
    def __init__(self, pad):
        super().__init__(); self.pad = pad

    def forward(self, x):
        n, c, h, w = x.shape
        return torch.cat([x, x.new_zeros(n, self.pad, h, w)], 1), x.new_zeros(n)

    def inverse(self, y):
        return y[:, :y.shape[1] - self.pad]


class ActNorm(nn.Module):
    """y = x * exp(logs) + b per channel; log-det h*w*sum(logs)."""
    def __init__(self, c):
        super().__init__()
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1)); self.b = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.register_buffer("initialized", torch.zeros(1))

    def forward(self, x):
        hw = x.shape[2] * x.shape[3]
        return x * torch.exp(self.logs) + self.b, (hw * self.logs.sum()).expand(x.shape[0])

    def inverse(self, y):
        return (y - self.b) * torch.exp(-self.logs)


class ChannelReverse(nn.Module):
    def forward(self, x):
        return x.flip(1), x.new_zeros(x.shape[0])

    def inverse(self, y):
        return y.flip(1)


class Invertible1x1Conv(nn.Module):
    """Glow's 1x1 convolution in LU form: W = P (L + I) (U + diag(sign_s * exp(log_s))), L and U the
    strictly lower and upper parts of `lower` and `upper`; log-det h*w*sum(log_s)."""
    def __init__(self, c):
        super().__init__()
        self.lower = nn.Parameter(torch.zeros(c, c)); self.upper = nn.Parameter(torch.zeros(c, c))
        self.log_s = nn.Parameter(torch.zeros(c))
        self.register_buffer("perm", torch.eye(c)); self.register_buffer("sign_s", torch.ones(c))

    def weight(self):
        c = self.log_s.shape[0]
        eye = torch.eye(c, dtype=self.lower.dtype)
        l = torch.tril(self.lower, -1) + eye
        u = torch.triu(self.upper, 1) + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.perm @ l @ u

    def forward(self, x):
        w = self.weight()
        return F.conv2d(x, w[:, :, None, None]), (x.shape[2] * x.shape[3] * self.log_s.sum()).expand(x.shape[0])

    def inverse(self, y):
        return F.conv2d(y, torch.linalg.inv(self.weight())[:, :, None, None])


def conv_net(c_in, hidden, c_out, k):
    """conv(k) ReLU conv(k) ReLU conv(k), 'same' zero padding, biases: names net.0, net.2, net.4."""
    p = k // 2
    return nn.Sequential(nn.Conv2d(c_in, hidden, k, padding=p), nn.ReLU(),
                         nn.Conv2d(hidden, hidden, k, padding=p), nn.ReLU(),
                         nn.Conv2d(hidden, c_out, k, padding=p))


class AffineCoupling(nn.Module):
    """x1, x2 the channel halves; (raw, t) = net(x1); s = floor + (1 - floor) sigmoid(raw + 2);
    y = cat(x2 * s + t, x1); log-det sum log s."""
    def __init__(self, c, hidden, k, floor):
        super().__init__(); self.net = conv_net(c // 2, hidden, c, k); self.floor = floor

    def _st(self, x1):
        raw, t = self.net(x1).chunk(2, 1)
        return self.floor + (1 - self.floor) * torch.sigmoid(raw + 2.0), t

    def forward(self, x):
        x1, x2 = x.chunk(2, 1); s, t = self._st(x1)
        return torch.cat([x2 * s + t, x1], 1), torch.log(s).flatten(1).sum(1)

    def inverse(self, y):
        y2, x1 = y.chunk(2, 1); s, t = self._st(x1)
        return torch.cat([x1, (y2 - t) / s], 1)


class AdditiveCoupling(nn.Module):
    """The i-RevNet block: y = cat(x2, x1 + F(x2)), F the bottleneck; volume preserving."""
    def __init__(self, c, hidden, k):
        super().__init__(); self.bottleneck = conv_net(c // 2, hidden, c // 2, k)

    def forward(self, x):
        x1, x2 = x.chunk(2, 1)
        return torch.cat([x2, x1 + self.bottleneck(x2)], 1), x.new_zeros(x.shape[0])

    def inverse(self, y):
        x2, y1 = y.chunk(2, 1)
        return torch.cat([y1 - self.bottleneck(x2), x2], 1)


class ReadoutHead(nn.Module):
    """i-RevNet's readout, inference mode: BatchNorm (running statistics) ReLU, average pool, linear."""
    EPS = 1e-5

    def __init__(self, c, classes):
        super().__init__()
        self.bn = nn.Module()
        self.bn.weight = nn.Parameter(torch.ones(1, c, 1, 1)); self.bn.bias = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.bn.register_buffer("running_mean", torch.zeros(1, c, 1, 1))
        self.bn.register_buffer("running_var", torch.ones(1, c, 1, 1))
        self.linear = nn.Linear(c, classes)

    def forward(self, x):
        xhat = (x - self.bn.running_mean) / torch.sqrt(self.bn.running_var + self.EPS)
        return self.linear(F.relu(xhat * self.bn.weight + self.bn.bias).mean((2, 3)))


class InvertibleClassifier(nn.Module):
    """The body's blocks in order, with the Java builder's names (`layers.{i}`, `psi{i}`, `pad{i}`,
    `reverse{i}`); `forward` gives (out, log_det, logits), `inverse` the input of an out or a z."""
    def __init__(self, arch):
        super().__init__()
        kinds = {"fi-revnet", "irevnet"}
        if arch.get("type") not in kinds:
            raise ValueError("model.json: type %r is none of %s" % (arch.get("type"), sorted(kinds)))
        self.fully_invertible = arch["type"] == "fi-revnet"
        self.num_classes = arch["numClasses"]
        c, h, w = arch["inputShape"]
        self.blocks = nn.ModuleDict()  # in the order the blocks apply
        self.stage_ends = []  # per stage, the number of blocks up to its end (the Java model's layers, stage0...)
        layer = squeeze = pads = 0

        def add(name, block):
            # ModuleDict keys may not contain '.': `layers.3` becomes `layers_3`; state_dict names are mapped back.
            self.blocks[name.replace(".", "_")] = block

        for st in arch["stages"]:
            if st.get("squeeze", True):
                add("psi%d" % squeeze, SpaceToDepth(2)); squeeze += 1; c, h, w = c * 4, h // 2, w // 2
            if st.get("pad", 0):
                add("pad%d" % pads, InjectivePad(st["pad"])); pads += 1; c += st["pad"]
            for _ in range(st["steps"]):
                if st.get("actnorm", False):
                    add("layers.%d" % layer, ActNorm(c)); layer += 1
                perm = st.get("permutation", "none")
                if perm == "reverse":
                    add("reverse%d" % layer, ChannelReverse())
                elif perm == "1x1conv":
                    add("layers.%d" % layer, Invertible1x1Conv(c)); layer += 1
                elif perm != "none":
                    raise ValueError("model.json: permutation %r is none of none, reverse, 1x1conv" % perm)
                if st["coupling"] == "affine":
                    block = AffineCoupling(c, st["hidden"], st["kernel"], st.get("scaleFloor", 0.0))
                elif st["coupling"] == "additive":
                    block = AdditiveCoupling(c, st["hidden"], st["kernel"])
                else:
                    raise ValueError("model.json: coupling %r is none of affine, additive" % st["coupling"])
                add("layers.%d" % layer, block); layer += 1
            self.stage_ends.append(len(self.blocks))
        self.head = None if self.fully_invertible else ReadoutHead(c, self.num_classes)
        self.out_shape = (c, h, w)

    def forward(self, x):
        log_det = x.new_zeros(x.shape[0])
        for block in self.blocks.values():
            x, ld = block(x)
            log_det = log_det + ld
        z = x.flatten(1)
        logits = z[:, :self.num_classes] if self.head is None else self.head(x)
        return x, log_det, logits

    def stage_output(self, x, stage):
        """The output of stage `stage`'s last block (the Java model's layerOutput)."""
        for block in list(self.blocks.values())[:self.stage_ends[stage]]:
            x, _ = block(x)
        return x

    def inverse(self, out):
        """The input whose body output is `out` (N x C x H x W, or flattened: z)."""
        out = out.reshape(out.shape[0], *self.out_shape)
        for block in reversed(list(self.blocks.values())):
            out = block.inverse(out)
        return out

    def load_weights(self, weights):
        """Loads a weights.npz mapping (the workbench's names); refuses missing or unknown names."""
        mapped = {}
        for k, v in weights.items():
            if k.startswith("layers."):
                _, i, rest = k.split(".", 2)
                k = "blocks.layers_%s.%s" % (i, rest)
            mapped[k] = v
        own = self.state_dict()
        missing = sorted(set(own) - set(mapped)); unknown = sorted(set(mapped) - set(own))
        if missing or unknown:
            raise ValueError("weights.npz does not match model.json: missing %s, unknown %s"
                             % (", ".join(map(saved_name, missing[:5])) or "none", ", ".join(map(saved_name, unknown[:5])) or "none"))
        for k, v in mapped.items():
            if tuple(own[k].shape) != tuple(v.shape):
                raise ValueError("weights.npz: %s has shape %s, model.json's is %s"
                                 % (saved_name(k), tuple(v.shape), tuple(own[k].shape)))
        self.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in mapped.items()})


def saved_name(k):
    """A state_dict name as weights.npz spells it (blocks.layers_3.logs -> layers.3.logs)."""
    if k.startswith("blocks.layers_"):
        i, rest = k[len("blocks.layers_"):].split(".", 1)
        return "layers.%s.%s" % (i, rest)
    return k


def load(directory, dtype=torch.float64):
    """The model of an export directory (model.json and weights.npz) in `dtype`, in inference mode."""
    with open(os.path.join(directory, "model.json")) as f:
        arch = json.load(f)
    model = InvertibleClassifier(arch)
    model.load_weights(read_npz(os.path.join(directory, "weights.npz")))
    return model.to(dtype).eval()


class BadFile(ValueError):
    """A file that cannot be used; its message names the file, which may lie outside DIR (--gradients)."""


def read_npz(path):
    """Every array of an .npz file, read now: a damaged file (truncated, a bad copy) is refused naming it."""
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    # numpy reads an .npz as a zip archive and lets the zip module's errors through: none of
    # them names the file, and BadZipFile (a truncated copy) ended the script with a traceback.
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
        raise BadFile("%s: not a readable .npz file (%s)" % (path, e)) from e


def compare(directory):
    """Largest differences between this port and the export's check.npz, per precision."""
    result = {}
    check = read_npz(os.path.join(directory, "check.npz"))
    for p, dtype in (("f32", torch.float32), ("f64", torch.float64)):
        model = load(directory, dtype)
        x = torch.from_numpy(check["x"]).to(dtype)
        with torch.no_grad():
            out, log_det, logits = model(x)
            rec = model.inverse(out)
        got = {"z": out.flatten(1), "log_det": log_det, "logits": logits}
        r = {}
        for name, v in got.items():
            ref = check["%s_%s" % (name, p)].astype(np.float64)
            diff = np.abs(v.double().numpy() - ref)
            r[name] = {"max_abs_diff": float(diff.max()), "max_abs_ref": float(np.abs(ref).max())}
        r["round_trip"] = {"max_abs_diff": float((rec.double() - x.double()).abs().max()),
                           "max_abs_ref": float(x.abs().max())}
        r["argmax_agrees"] = float((logits.argmax(1).numpy() == check["logits_%s" % p].argmax(1)).mean())
        result[p] = r
    result["count"] = int(check["x"].shape[0])
    return result


# Relative to 1 + the reference's largest magnitude. The round trip tests the port's own inverse:
# in float64 by the bound `irevnet invert` applies; in float32 it measures how well the model is
# conditioned (an iCE model loses 5e-3 in either framework), so it is shown and not judged.
def compare_gradients(directory, path):
    """Float64 gradients of L = sum(logits * d_logits) + sum(out * d_out) + sum(log_det * d_log_det)
    by PyTorch's autograd against those in `path` (keys d_logits, d_out, d_log_det, grad.x and
    grad.NAME for every trainable weight, NAME as in weights.npz): the largest difference relative
    to 1 + the largest magnitude of each expected gradient, and where it is."""
    expected = read_npz(path)
    x = torch.from_numpy(read_npz(os.path.join(directory, "check.npz"))["x"]).double().requires_grad_(True)
    model = load(directory, torch.float64)
    out, log_det, logits = model(x)
    loss = ((logits * torch.from_numpy(expected["d_logits"])).sum() + (out * torch.from_numpy(expected["d_out"]).reshape(out.shape)).sum()
            + (log_det * torch.from_numpy(expected["d_log_det"])).sum())
    loss.backward()
    got = {"x": x.grad}
    got.update({saved_name(k): v.grad for k, v in model.named_parameters()})
    names = sorted(k[len("grad."):] for k in expected if k.startswith("grad."))
    if sorted(got) != names:
        raise ValueError("%s: gradients of %s, the model has %s" % (path, names[:5], sorted(got)[:5]))
    worst, worst_rel = None, -1.0
    for k in names:
        ref = expected["grad." + k].astype(np.float64)
        g = np.zeros(ref.shape) if got[k] is None else got[k].numpy().reshape(ref.shape)  # None: no path to the loss
        rel = float(np.abs(g - ref).max() / (1 + np.abs(ref).max()))
        if rel > worst_rel:
            worst, worst_rel = k, rel
    return {"count": len(names), "max_rel_diff": worst_rel, "worst": worst}


TOLERANCE = {("f32", "z"): 1e-3, ("f32", "log_det"): 1e-3, ("f32", "logits"): 1e-3, ("f32", "round_trip"): None,
             ("f64", "z"): 1e-9, ("f64", "log_det"): 1e-9, ("f64", "logits"): 1e-9, ("f64", "round_trip"): 1e-6}


GRADIENT_TOLERANCE = 1e-9


def limit(p, k, v):
    t = TOLERANCE[(p, k)]
    return None if t is None else t * (1 + v["max_abs_ref"])


def passes(result):
    return all(limit(p, k, v) is None or v["max_abs_diff"] <= limit(p, k, v)
               for p in ("f32", "f64") for k, v in result[p].items() if isinstance(v, dict))


def read_spec(directory, name):
    """The JSON file `name` of a check directory, which says what the Java test wrote there."""
    path = os.path.join(directory, name)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise BadFile("%s: cannot read (%s)" % (path, e))

def finite(value):
    """JSON has no NaN or infinity (Java's parsers refuse Python's NaN): those as strings."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def check_main(prog, doc, run, extra):
    """The command line of a script that checks a run directory's numbers (torch_analysis.py,
    torch_density.py): `prog DIR [--threads N]`; prints one JSON object, its checks, the attribute
    `extra` of what run(DIR) returns and the names of the failed checks; exit 1 when one failed, 2
    on a file that is not what it should be."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    try:
        c = run(args.dir)
    except KeyError as e:
        print("%s: %s: no field or array %s" % (prog, args.dir, e), file=sys.stderr)
        sys.exit(2)
    except (BadFile, OSError) as e:  # OSError: a run directory without a file it needs
        print("%s: %s: %s" % (prog, args.dir, e), file=sys.stderr)
        sys.exit(2)
    failed = [k for k, v in c.checks.items() if not v["ok"]]
    print(json.dumps(finite({"checks": c.checks, extra: getattr(c, extra), "failed": failed})))
    sys.exit(1 if failed else 0)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="an export directory (bin/irevnet export --out DIR)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--gradients", metavar="FILE", help="also compare float64 gradients with FILE's (see compare_gradients)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        result = compare(a.dir)
        if a.gradients:
            result["gradients"] = compare_gradients(a.dir, a.gradients)
    except BadFile as e:
        print("torch_port: %s" % e, file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError) as e:
        print("torch_port: %s: %s" % (a.dir, e), file=sys.stderr)
        return 2
    ok = passes(result) and ("gradients" not in result or result["gradients"]["max_rel_diff"] <= GRADIENT_TOLERANCE)
    result["pass"] = ok
    if a.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print("%-6s %-10s %14s %14s %14s" % ("prec", "output", "max abs diff", "limit", "max abs value"))
        for p in ("f32", "f64"):
            for k, v in result[p].items():
                if isinstance(v, dict):
                    lim = limit(p, k, v)
                    print("%-6s %-10s %14.3e %14s %14.3e" % (p, k, v["max_abs_diff"], "not judged" if lim is None
                          else "%.3e" % lim, v["max_abs_ref"]))
        if "gradients" in result:
            g = result["gradients"]
            print("f64    gradients of %d arrays: largest difference %.3e of 1 + the largest magnitude (%s; limit %.0e)"
                  % (g["count"], g["max_rel_diff"], g["worst"], GRADIENT_TOLERANCE))
        print("%d images; same predicted class: f32 %.3f, f64 %.3f; %s" % (result["count"], result["f32"]["argmax_agrees"],
              result["f64"]["argmax_agrees"], "pass" if ok else "FAIL: a difference exceeds its limit"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
