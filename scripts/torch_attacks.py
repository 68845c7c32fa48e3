#!/usr/bin/env python3
"""FGSM, PGD, feature matching and metamers in PyTorch float64, on models rebuilt by torch_port.py.

An independent computation of the workbench's attacks (org.irevnet.attacks) and metamers
(org.irevnet.analysis.MetamerSampler) for a cross-check (TorchAttacksTest). Each attack follows its
textbook definition, written from the papers, not from the Java code:

  loss       CE: cross-entropy of the logits and the goal class (softmax, as F.cross_entropy);
             margin (Carlini-Wagner f6): max_{j != goal} logit_j - logit_goal; summed over images
  FGSM       (Goodfellow et al. 2015) x' = clip_[0,1](x + eps * sign(grad)), minus for targeted
  PGD        (Madry et al. 2018) x_{t+1} = clip_[0,1](P_eps(x_t + alpha * d(grad))), P_eps the
             projection onto the eps-ball around x and d the steepest ascent direction of the norm:
             sign(g) for L-inf, g / ||g||_2 for L2 (descent for targeted); L-inf: clamp the
             perturbation to [-eps, eps]; L2: scale it by min(1, eps / ||delta||_2) (torch.renorm
             would add 1e-7 to the norm); then clamp to [0, 1], as the robustness library does
  selection  PGD keeps, per image, its first iterate after at least one step at which the attack
             has succeeded (untargeted: the class is not the goal; targeted: it is), else the last:
             the workbench's documented stopping rule, which chooses among the same iterates
  features   (Sabour et al. 2016, adversarial manipulation of deep representations) from b, projected
             sign-gradient descent on ||h(x) - h(a)||^2 in the L-inf eps-ball around b, h the output
             of a stage; the result is the iterate (start included) with the smallest distance
  metamer    (Jacobsen et al. 2019) x_met = F^-1(concat(z_s(a), z_n(b))), z_s the first C
             coordinates of z = F(x), C the number of classes

Usage: python3 scripts/torch_attacks.py DIR
DIR/attacks.json: {"cases": [{"name", "model" (a torch_port export directory under DIR), "attack":
fgsm | pgd | features | metamer, "norm": linf | l2, "loss": ce | margin, "eps", "steps",
"step_size", "targeted", "stage"}]} (each attack reads the fields it needs).
DIR/attacks-in.npz: per case NAME.x (the clean images, or b), NAME.goals (labels or targets),
NAME.start (PGD's first iterate) and NAME.a (the images whose features or logits are matched).
Writes DIR/torch-attacks.npz with NAME.adv (the result), NAME.classes (its predicted classes) and
for PGD NAME.last (the last iterate, which differs from the result where the attack stopped early),
and prints one JSON line: per case the smallest |g_i| / max_i |g_i| over non-zero gradient
components of its sign steps (min_sign_ratio; 1 when it takes none), which says how far rounding
is from flipping a sign. Exit 0, or 2 on files it cannot use or without PyTorch and NumPy.
"""
import argparse, json, os, sys, tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # a python3 without them gave a traceback
    print(f"torch_attacks: needs PyTorch and NumPy ({e}; Debian: apt-get install python3-torch)",
          file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_port import load, read_npz  # noqa: E402


def loss_of(logits, goals, kind):
    if kind == "ce":
        return F.cross_entropy(logits, goals, reduction="sum")
    if kind == "margin":
        goal = logits.gather(1, goals[:, None])[:, 0]
        others = logits.scatter(1, goals[:, None], float("-inf"))
        return (others.max(1).values - goal).sum()
    raise ValueError("loss %r is none of ce, margin" % kind)


class SignSteps:
    """Steepest ascent directions, remembering how close a sign step came to a zero component."""
    def __init__(self):
        self.min_ratio = 1.0

    def direction(self, g, norm):
        if norm == "linf":
            rows = g.abs().flatten(1)
            top = rows.max(1, keepdim=True).values
            ratio = torch.where(rows > 0, rows / top, torch.ones_like(rows))
            self.min_ratio = min(self.min_ratio, float(ratio.min()))
            return g.sign()
        if norm == "l2":
            return g / g.flatten(1).norm(dim=1).view(-1, *[1] * (g.dim() - 1))
        raise ValueError("norm %r is none of linf, l2" % norm)


def project(x, x0, eps, norm):
    delta = x - x0
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    else:
        n = delta.flatten(1).norm(dim=1)
        delta = delta * torch.clamp(eps / n, max=1.0).view(-1, *[1] * (x.dim() - 1))
    return (x0 + delta).clamp(0.0, 1.0)


def input_gradient(f, x):
    x = x.detach().requires_grad_(True)
    g, = torch.autograd.grad(f(x), x)
    return g


def classes(model, x):
    with torch.no_grad():
        return model(x)[2].argmax(1)


def fgsm(model, c, x, goals, directions):
    g = input_gradient(lambda v: loss_of(model(v)[2], goals, c["loss"]), x)
    sign = -1.0 if c["targeted"] else 1.0
    return (x + sign * c["eps"] * directions.direction(g, "linf")).clamp(0.0, 1.0)


def pgd(model, c, x, goals, start, directions):
    sign = -1.0 if c["targeted"] else 1.0
    it = start
    result, done = start.clone(), torch.zeros(len(x), dtype=torch.bool)
    for t in range(1, c["steps"] + 1):
        g = input_gradient(lambda v: loss_of(model(v)[2], goals, c["loss"]), it)
        it = project(it + sign * c["step_size"] * directions.direction(g, c["norm"]), x, c["eps"], c["norm"])
        cls = classes(model, it)
        succeeded = cls == goals if c["targeted"] else cls != goals
        take = ~done & (succeeded | (t == c["steps"]))
        result[take] = it[take]
        done |= take
    return result, it


def features(model, c, b, a, directions):
    stage = c["stage"]
    with torch.no_grad():
        target = model.stage_output(a, stage)

    def distance(v):
        return (model.stage_output(v, stage) - target).flatten(1).pow(2).sum(1)

    it, best = b, b.clone()
    with torch.no_grad():
        best_d = distance(b)
    for _ in range(c["steps"]):
        g = input_gradient(lambda v: distance(v).sum(), it)
        it = project(it - c["step_size"] * directions.direction(g, "linf"), b, c["eps"], "linf")
        with torch.no_grad():
            d = distance(it)
        better = d < best_d
        best[better], best_d[better] = it[better], d[better]
    return best


def metamer(model, a, b):
    with torch.no_grad():
        za, zb = model(a)[0].flatten(1), model(b)[0].flatten(1)
        k = model.num_classes
        return model.inverse(torch.cat([za[:, :k], zb[:, k:]], 1))


def attack(directory, c, arrays, models, summary):
    """Case `c`'s result arrays (NAME.adv, NAME.classes, for PGD NAME.last); records its sign margin in `summary`."""
    name, out = c["name"], {}
    if c["model"] not in models:
        models[c["model"]] = load(os.path.join(directory, c["model"]), torch.float64)
    model = models[c["model"]]
    x = arrays[name + ".x"].double()
    directions = SignSteps()
    if c["attack"] == "fgsm":
        adv = fgsm(model, c, x, arrays[name + ".goals"].long(), directions)
    elif c["attack"] == "pgd":
        adv, last = pgd(model, c, x, arrays[name + ".goals"].long(), arrays[name + ".start"].double(), directions)
        out[name + ".last"] = last.numpy()
    elif c["attack"] == "features":
        adv = features(model, c, x, arrays[name + ".a"].double(), directions)
    elif c["attack"] == "metamer":
        adv = metamer(model, arrays[name + ".a"].double(), x)
    else:
        raise ValueError("case %s: attack %r is none of fgsm, pgd, features, metamer" % (name, c["attack"]))
    out[name + ".adv"] = adv.detach().numpy()
    out[name + ".classes"] = classes(model, adv).numpy().astype(np.int64)
    summary[name] = {"min_sign_ratio": directions.min_ratio}
    return out


def run(directory):
    with open(os.path.join(directory, "attacks.json")) as f:
        cases = json.load(f)["cases"]
    arrays = {k: torch.from_numpy(v) for k, v in read_npz(os.path.join(directory, "attacks-in.npz")).items()}
    models, out, summary = {}, {}, {}
    for c in cases:
        try:
            out.update(attack(directory, c, arrays, models, summary))
        except KeyError as e:
            raise ValueError("case %s: no field or array %s" % (c.get("name"), e))
    # A temporary file renamed into place: no half-written results.
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **out)
        os.replace(tmp, os.path.join(directory, "torch-attacks.npz"))
    except BaseException:
        os.unlink(tmp)
        raise
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="a directory with attacks.json, attacks-in.npz and the exported models")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        summary = run(a.dir)
    except (OSError, ValueError, KeyError) as e:
        print("torch_attacks: %s: %s" % (a.dir, e), file=sys.stderr)
        return 2
    print(json.dumps({"cases": summary}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
