#!/usr/bin/env python3
"""Training steps of `train` recomputed in PyTorch float64, from the objectives' definitions.

An independent computation of what a training step does (TrainingTorchTest): from the state before
the step (the model's weights and Adam state, and for iCE the adversaries, their Adam states, the
prior with its Adam state and the replay buffer: what a checkpoint holds) and the batch the step
used (pixels after dequantisation and augmentation, labels), the script computes the step's losses
and the state after it, written from the README ("train", "train --objective ice", "train
--objective mle") and DESIGN.md section 4, not from the Java code:

  lr     step i (from 0) trains at lr (i + 1) / warmup during the warm-up, then `cosine` lr (1 +
         cos(pi p)) / 2, `step` lr, lr / 10 from p = 1/2, lr / 100 from p = 3/4, or `constant` lr,
         p = (i - warmup) / (total - warmup) the progress over the steps after the warm-up
  Adam   PyTorch's own torch.optim.AdamW, beta 0.9 and 0.999, with the README's epsilon convention
         (epsilon 1e-8 added to the uncorrected sqrt(v): the same update as PyTorch's epsilon
         1e-8 / sqrt(1 - beta2^t) added to the corrected one, set before each step) and decoupled
         weight decay (every model parameter times 1 - lr W); the adversaries at the constant
         --adv-lr and the prior at the model's rate, neither decayed
  ce     the mean softmax cross-entropy of z_s = z[:, :C] (the logits of a fi-RevNet)
  mle    -(log N(z; 0, I) + log|det dz/dx|) / D per image, batch mean, D = all of z's dimensions;
         bits_per_dim = (nats / ln 2 + 8) D / D_real
  ice    L = CE(z_s, y) + w_nc(i) L_nuis + w_mle L_mle, w_nc(i) = w_nc i / warm-up during the
         warm-up (0 at step 0). First every adversary D_j (linear(d_n, h) ReLU linear(h, C), or
         linear) takes --adv-steps Adam steps on the mean CE of its logits on z_n detached from
         the model, standardised per dimension with the batch's mean and biased variance (+ 1e-5,
         batch norm's epsilon) when --adv-standardize is on; with --adv-replay B each adversary
         step instead trains on one of the last B batches' inputs (this one included), drawn
         uniformly (the draws from the workbench's seeds: java.util.Random(Seeds.mix(seed, "REPLAY",
         i)).nextInt, in the order adversary steps, then adversaries). Then, against the updated
         adversaries and through the standardisation (its statistics included), L_nuis is the mean
         over adversaries of, per image, `bounded` CE(D(z_n), uniform) = -mean_c log p_c or `paper`
         -min(CE(D(z_n), y), cap) (a sample at or past the cap passes no gradient), batch mean;
         L_mle = -(sum_k log N(z_n,k; beta_k, exp(gamma_k)) + log|det J|) / d per image, batch mean,
         d = all dimensions of z (not z_n's). The model and the prior (beta, gamma) take one
         Adam step on L's gradient (autograd). Metrics: ce, nuisance_ce (the adversaries' mean CE
         against y after their steps), adversary_accuracy (theirs, mean), nll_bits_per_dim =
         L_mle / ln 2 + 8, w_nc, loss = L
  whiten with --adv-whiten (IceConfig's advWhiten), the adversaries see (z_n - mu) W instead, for
         their steps and the model's loss alike: before them the batch's raw z_n (detached) joins a
         running mean and covariance, the exact mixture of the batches' distributions (batch
         covariance biased; the mixture's covariance adds k (1 - k) d d^T, d the difference of the
         two means, k the old part's weight) at k = i / (i + 1) while fewer than 100 batches were
         seen, then at k = 0.99; mu and W = V diag((max(lambda, 0) + eps)^-1/2) V^T (eigh of the
         running covariance, eps 1e-8 of the largest eigenvalue) are refreshed from them at steps
         i < 50 and at every 25th step (i % 25 == 0), else kept from the state; mu and W are
         constants of the model's loss (no gradient through them)

Usage: python3 scripts/torch_train.py DIR
DIR/training.json: {"scenarios": [{"name", "dtype" ("float64": the steps are chained from the first
state, each compared with ours; "float32": each step from our state before it, its losses compared
with the metrics lines), "model_json", "config" (train's resolved config), "total_steps",
"model_params" (the trainable weights in the optimiser's order), "content_dims", "first_step" (the
run's step index of steps[0], from 0), "steps": [{"batch"
(.npz: x, y), "before" and "after" (directories: weights.npz, optimizer.npz, objective.npz), "ours"
(the step's losses)}]}].
Prints one JSON object: `checks` (per number or array: ours, theirs, tolerance, ok), `failed` and
`measured` (margins and counts of what the steps exercised). Exit 0 when every check holds, 1 when
one does not, 2 on files it cannot use or without PyTorch and NumPy.
"""
import json, math, os, sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"torch_train: needs PyTorch and NumPy ({e}; Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_port import BadFile, InvertibleClassifier, check_main, read_npz, read_spec, saved_name  # noqa: E402
from torch_density import Checks, JavaRandom, mix  # noqa: E402

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8
STD_EPS = 1e-5
REPLAY = int.from_bytes(b"REPLAY", "big")
LOG_2PI = math.log(2 * math.pi)
# float64 against our float64: rounding of the same sums in two orders (measured below 1e-13 for
# the losses). The state after a step, relative to each array's largest magnitude (at least 1), to
# 1e-9: Adam divides each moment by sqrt(v) + 1e-8, which magnifies the rounding of gradients near
# 1e-8 (measured 3e-11).
TOL64 = 1e-10
TOL64_STATE = 1e-9
# Our float32 losses against float64 from the same float32 state: the forward pass's rounding
# (measured up to 1.6e-6 relative, nuisance_ce).
TOL32 = 2e-5
# Whitened adversaries (--adv-whiten): W = V diag((lambda + eps)^-1/2) V^T has its largest gains,
# up to 1 / sqrt(eps) (eps 1e-8 of the largest eigenvalue), along the directions that the batches
# seen do not span (3 to 6 batches of 16 span at most 95 of z_n's 1014 dimensions). There the
# eigenvalues' rounding, about 1e-16 of the largest in either LAPACK, moves (lambda + eps)^-1/2 by
# up to 1e-8 of itself: W measured 2.9e-8 apart (relative to its largest entry), and through the
# model's gradient dx W^T and the adversaries' inputs the rest of the state 4.8e-9 (an adversary's
# first layer). The running mean and covariance and mu are sums, held to TOL64_STATE (measured
# 1.3e-10). At a step that keeps W, the batch's z_n also has components along directions the
# batches before it did not span, which W multiplies by up to 1 / sqrt(eps): the float64 losses
# measured 5.8e-10 apart there (nuisance_ce, step 101 of ice-whiten-late) and the float32 ones
# 1.3e-5 (step 99), the float32 forward pass's rounding of z_n magnified.
TOL64_WHITEN = 1e-8
TOL32_WHITEN = 1e-4
TOL64_ZCA = 3e-7
TOL64_STATE_WHITEN = 5e-8
WHITEN_DECAY, WHITEN_WARMUP, WHITEN_EVERY, WHITEN_RELATIVE_EPS = 0.99, 50, 25, 1e-8


def tensor64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64).copy())


def learning_rate(cfg, i, total):
    lr, warm = cfg["lr"], cfg["warmupSteps"]
    if warm > 0 and i < warm:
        return lr * (i + 1) / warm
    p = 1.0 if total <= warm else min(1.0, (i - warm) / (total - warm))
    if cfg["schedule"] == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * p))
    if cfg["schedule"] == "step":
        return lr * (1 if p < 0.5 else 0.1 if p < 0.75 else 0.01)
    return lr


class Adam:
    """torch.optim.AdamW over a list of tensors, with the state in the workbench's layout (the moments
    of all parameters in one row, first moments then second, in the given order; the step count)."""

    def __init__(self, params, moments, iteration):
        self.params = params  # list of leaf tensors, requires_grad
        self.opt = torch.optim.AdamW(params, lr=1.0, betas=(BETA1, BETA2), eps=EPS, weight_decay=0.0, foreach=False)
        flat = tensor64(moments).reshape(-1)
        n = sum(p.numel() for p in params)
        if flat.numel() != 2 * n:
            raise BadFile("Adam state of %d values for %d parameters" % (flat.numel(), n))
        at = 0
        for p in params:
            k = p.numel()
            self.opt.state[p] = {"step": torch.tensor(float(iteration)), "exp_avg": flat[at:at + k].reshape(p.shape).clone(),
                                 "exp_avg_sq": flat[n + at:n + at + k].reshape(p.shape).clone()}
            at += k

    def step(self, lr, weight_decay=0.0):
        g = self.opt.param_groups[0]
        step = int(self.opt.state[self.params[0]]["step"]) + 1
        g["lr"], g["weight_decay"] = lr, weight_decay
        g["eps"] = EPS / math.sqrt(1 - BETA2 ** step)  # the README's epsilon on sqrt(v), in PyTorch's form
        self.opt.step()
        self.opt.zero_grad(set_to_none=False)

    def state(self):
        s = [self.opt.state[p] for p in self.params]
        return {"m": torch.cat([x["exp_avg"].reshape(-1) for x in s]), "v": torch.cat([x["exp_avg_sq"].reshape(-1) for x in s]),
                "t": int(s[0]["step"])}


class Adversary:
    def __init__(self, w, prefix, names):
        self.names = names
        self.params = [tensor64(w[prefix + k]).requires_grad_(True) for k in names]
        self.adam = Adam(self.params, w[prefix + "adam.moments"], int(np.asarray(w[prefix + "adam.iteration"]).reshape(-1)[0]))

    def logits(self, x, detached=False):
        """Its logits; `detached`: as a fixed function of x (the model's loss does not train it)."""
        p = [q.detach() for q in self.params] if detached else self.params
        if len(p) == 2:
            return x @ p[0] + p[1]
        return F.relu(x @ p[0] + p[1]) @ p[2] + p[3]

    def train_step(self, x, y, lr):
        F.cross_entropy(self.logits(x), y).backward()
        self.adam.step(lr)


def standardise(zn):
    mean = zn.mean(0, keepdim=True)
    var = ((zn - mean) ** 2).mean(0, keepdim=True)
    return (zn - mean) / torch.sqrt(var + STD_EPS)


class State:
    """The state a checkpoint holds, as leaf tensors: the model, its Adam, and for iCE the
    adversaries, the prior, their Adam states and the replay buffer."""

    def __init__(self, spec, directory):
        with open(spec["model_json"]) as f:
            self.model = InvertibleClassifier(json.load(f)).double()
        weights = read_npz(os.path.join(directory, "weights.npz"))
        self.model.load_weights(weights)
        named = {saved_name(k): p for k, p in self.model.named_parameters()}
        if sorted(named) != sorted(spec["model_params"]):
            raise BadFile("%s: trainable weights %s, the spec lists %s" % (directory, sorted(named)[:4], spec["model_params"][:4]))
        self.trainable = [named[k] for k in spec["model_params"]]
        opt = read_npz(os.path.join(directory, "optimizer.npz"))
        self.adam = Adam(self.trainable, opt["adam.moments"], int(opt["adam.iteration"].reshape(-1)[0]))
        self.adversaries, self.replay, self.whiten = [], [], None
        if spec["config"]["objective"] == "ice":
            obj = read_npz(os.path.join(directory, "objective.npz"))
            ice = spec["config"]["ice"]
            names = ["fc0.weight", "fc0.bias"] + (["fc1.weight", "fc1.bias"] if ice["advHidden"] > 0 else [])
            self.adversaries = [Adversary(obj, "adv.%d." % j, names) for j in range(ice["adversaries"])]
            self.prior = [tensor64(obj["prior." + k]).requires_grad_(True) for k in ("beta", "gamma")]
            self.prior_adam = Adam(self.prior, obj["prior.adam.moments"], int(obj["prior.adam.iteration"].reshape(-1)[0]))
            # The whitening's statistics (absent before the first step): running mean and covariance,
            # and the mu and W last computed from them.
            self.whiten = {k: tensor64(obj["whiten." + k]) for k in WHITEN_KEYS} if "whiten.matrix" in obj else None
            i = 0
            while "replay.%d.x" % i in obj:
                self.replay.append((tensor64(obj["replay.%d.x" % i]), torch.from_numpy(obj["replay.%d.y" % i].astype(np.int64))))
                i += 1


WHITEN_KEYS = ("run_mean", "run_cov", "mean", "matrix")


def zca(cov):
    lam, v = torch.linalg.eigh(cov)
    eps = WHITEN_RELATIVE_EPS * max(float(lam[-1]), sys.float_info.min)
    return (v * (torch.clamp(lam, min=0) + eps) ** -0.5) @ v.T


def update_whitening(s, zn, i, name, measured):
    """Step i's batch (raw z_n, detached) into the running statistics, then mu and W when due."""
    batch_mean = zn.mean(0, keepdim=True)
    centred = zn - batch_mean
    batch_cov = centred.T @ centred / zn.shape[0]
    w = s.whiten
    if w is None:
        w = s.whiten = {"run_mean": batch_mean, "run_cov": batch_cov}
    else:
        k = min(WHITEN_DECAY, i / (i + 1))
        d = batch_mean - w["run_mean"]
        w["run_cov"] = k * w["run_cov"] + (1 - k) * batch_cov + k * (1 - k) * d.T @ d
        w["run_mean"] = k * w["run_mean"] + (1 - k) * batch_mean
    refresh = "matrix" not in w or i < WHITEN_WARMUP or i % WHITEN_EVERY == 0
    if refresh:
        w["mean"], w["matrix"] = w["run_mean"].clone(), zca(w["run_cov"])
    measured[name + " whitening refreshed"] = refresh


def step(spec, s, i, x, y, c, name, measured):
    """Step i of scenario `spec` on state s (changed in place): the losses, as the metrics name them."""
    cfg = spec["config"]
    classes = s.model.num_classes
    lr = learning_rate(cfg, i, spec["total_steps"])
    out, log_det, logits = s.model(x)
    z = out.flatten(1)
    n, d = z.shape
    terms = {"lr": lr, "accuracy": float((logits.argmax(1) == y).double().mean())}
    top2 = logits.detach().topk(2, 1).values
    measured["%s smallest logit gap" % name] = min(measured.get("%s smallest logit gap" % name, math.inf),
                                                   float((top2[:, 0] - top2[:, 1]).min()))
    if cfg["objective"] == "mle":
        loss = -(-0.5 * (z * z).sum(1) - 0.5 * d * LOG_2PI + log_det).mean() / d
        terms["bits_per_dim"] = (float(loss) / math.log(2) + 8) * d / spec["content_dims"]
    else:
        loss = F.cross_entropy(logits, y)
        if cfg["objective"] == "ice":
            terms["ce"] = float(loss)
    if cfg["objective"] == "ice":
        ice = cfg["ice"]
        zn = z[:, classes:]
        if ice["advWhiten"]:
            update_whitening(s, zn.detach(), i, name, measured)
            mu, w_zca = s.whiten["mean"], s.whiten["matrix"]
            see = lambda v: (v - mu) @ w_zca  # noqa: E731 (mu and W are constants: no gradient through them)
        elif ice["advStandardize"]:
            see = standardise
        else:
            see = lambda v: v  # noqa: E731
        a = see(zn.detach())
        if ice["advReplay"] > 0:
            s.replay.append((a.clone(), y.clone()))
            del s.replay[:-ice["advReplay"]]
        pick = JavaRandom(mix(cfg["seed"], REPLAY, i))
        for _ in range(ice["advSteps"]):
            for adv in s.adversaries:
                xa, ya = s.replay[pick.next_int(len(s.replay))] if ice["advReplay"] > 0 else (a, y)
                adv.train_step(xa, ya, ice["advLr"])
        warm = ice["wNcWarmupSteps"]
        w_nc = ice["wNc"] if warm == 0 or i >= warm else ice["wNc"] * i / warm
        a_model = see(zn)
        cap = ice["paperCap"] if ice["paperCap"] is not None else math.log(classes)
        nuis, nuis_ce, acc = 0.0, 0.0, 0.0
        for adv in s.adversaries:
            logp = F.log_softmax(adv.logits(a_model, detached=True), 1)
            ce_rows = -logp.gather(1, y[:, None])[:, 0]
            nuis_ce += float(ce_rows.mean()) / len(s.adversaries)
            acc += float((logp.argmax(1) == y).double().mean()) / len(s.adversaries)
            if ice["nuisanceForm"] == "bounded":
                nuis = nuis - logp.mean(1).mean() / len(s.adversaries)
            else:
                nuis = nuis - torch.clamp(ce_rows, max=cap).mean() / len(s.adversaries)
                key = "%s samples past the paper cap" % name
                measured[key] = measured.get(key, 0) + int((ce_rows >= cap).sum())
                measured["%s samples below the paper cap" % name] = (measured.get("%s samples below the paper cap" % name, 0)
                                                                     + int((ce_rows < cap).sum()))
        loss = loss + w_nc * nuis
        terms.update(nuisance_ce=nuis_ce, adversary_accuracy=acc, w_nc=w_nc)
        if ice["wMle"] > 0:
            beta, gamma = s.prior
            logp_zn = (-0.5 * ((zn - beta) * torch.exp(-gamma)) ** 2 - gamma - 0.5 * LOG_2PI).sum(1)
            mle = -(logp_zn + log_det).mean() / d
            loss = loss + ice["wMle"] * mle
            terms["nll_bits_per_dim"] = float(mle) / math.log(2) + 8
    terms["loss"] = float(loss)
    loss.backward()
    s.adam.step(lr, cfg["weightDecay"])
    if cfg["objective"] == "ice":
        for p in s.prior:  # without the MLE term the loss does not depend on the prior: its gradient is 0
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        s.prior_adam.step(lr)
    return terms


def compare_state(c, name, s, spec, directory, tol):
    """Our state after the step (directory) against s: each array within tol of its largest magnitude (at least 1)."""
    ours = read_npz(os.path.join(directory, "weights.npz"))
    named = {saved_name(k): v for k, v in s.model.state_dict().items()}
    worst, where = 0.0, None
    def close(what, mine, theirs, own_tol=None):
        """Judged against own_tol when given (and then left out of the state's largest difference)."""
        nonlocal worst, where
        theirs = theirs.detach().double().numpy().reshape(-1)
        mine = np.asarray(mine, dtype=np.float64).reshape(-1)
        diff = float(np.abs(mine - theirs).max() / max(1.0, float(np.abs(theirs).max()))) if theirs.size else 0.0
        if own_tol is None and diff > worst:
            worst, where = diff, what
        if own_tol is not None:
            c.below("%s %s" % (name, what), diff, own_tol)
        elif not diff <= tol:
            c.checks["%s %s" % (name, what)] = {"ours": diff, "theirs": 0.0, "tolerance": tol, "ok": False}
    for k, v in named.items():
        close("weight " + k, ours[k], v)
    opt = read_npz(os.path.join(directory, "optimizer.npz"))
    a = s.adam.state()
    close("adam m", opt["adam.moments"].reshape(-1)[:a["m"].numel()], a["m"])
    close("adam v", opt["adam.moments"].reshape(-1)[a["m"].numel():], a["v"])
    c.equal("%s adam step" % name, int(opt["adam.iteration"].reshape(-1)[0]), a["t"])
    if spec["config"]["objective"] == "ice":
        obj = read_npz(os.path.join(directory, "objective.npz"))
        for j, adv in enumerate(s.adversaries):
            for k, p in zip(adv.names, adv.params):
                close("adversary %d %s" % (j, k), obj["adv.%d.%s" % (j, k)], p)
            st = adv.adam.state()
            close("adversary %d adam" % j, obj["adv.%d.adam.moments" % j], torch.cat([st["m"], st["v"]]))
            c.equal("%s adversary %d adam step" % (name, j), int(obj["adv.%d.adam.iteration" % j].reshape(-1)[0]), st["t"])
        for k, p in zip(("beta", "gamma"), s.prior):
            close("prior " + k, obj["prior." + k], p)
        st = s.prior_adam.state()
        close("prior adam", obj["prior.adam.moments"], torch.cat([st["m"], st["v"]]))
        c.equal("%s prior adam step" % name, int(obj["prior.adam.iteration"].reshape(-1)[0]), st["t"])
        c.equal("%s replay batches" % name, sum(1 for k in obj if k.startswith("replay.") and k.endswith(".x")), len(s.replay))
        for r, (x, y) in enumerate(s.replay):
            close("replay %d x" % r, obj["replay.%d.x" % r], x)
            c.equal("%s replay %d y" % (name, r), obj["replay.%d.y" % r].tolist(), y.tolist())
        c.equal("%s whitening statistics" % name, sorted(k for k in obj if k.startswith("whiten.")),
                [] if s.whiten is None else sorted("whiten." + k for k in WHITEN_KEYS))
        if s.whiten is not None:
            for k in WHITEN_KEYS:
                close("whiten." + k, obj["whiten." + k], s.whiten[k], TOL64_ZCA if k == "matrix" else TOL64_STATE)
    c.below("%s state" % name, worst, tol)
    return worst, where


def run_scenario(c, spec, measured):
    steps = spec["steps"]
    f64 = spec["dtype"] == "float64"
    whitened = spec["config"]["objective"] == "ice" and spec["config"]["ice"]["advWhiten"]
    tol = (TOL64_WHITEN if whitened else TOL64) if f64 else (TOL32_WHITEN if whitened else TOL32)
    s = State(spec, steps[0]["before"])
    for j, st in enumerate(steps):
        i = spec["first_step"] + j
        name = "%s %s step %d" % (spec["name"], spec["dtype"], i)
        if not f64:
            s = State(spec, st["before"])  # each float32 step from our state before it
        b = read_npz(st["batch"])
        x, y = tensor64(b["x"]), torch.from_numpy(b["y"].astype(np.int64))
        theirs = step(spec, s, i, x, y, c, name, measured)
        for k, v in theirs.items():
            if k not in st["ours"]:
                raise BadFile("%s: no %s among our losses %s" % (name, k, sorted(st["ours"])))
            c.close("%s %s" % (name, k), st["ours"][k], v, tol, relative=True)
        if f64:
            measured[name + " state, largest difference and where"] = compare_state(
                c, name, s, spec, st["after"], TOL64_STATE_WHITEN if whitened else TOL64_STATE)
        else:
            measured[name + " state, largest difference and where (float32 against float64, not judged)"] = compare_state(
                Checks(), name, s, spec, st["after"], math.inf)


def run(directory):
    spec = read_spec(directory, "training.json")
    c = Checks()
    measured = {}
    for scenario in spec["scenarios"]:
        run_scenario(c, scenario, measured)
    c.measured = measured
    return c


def main():
    check_main("torch_train", __doc__, run, "measured")


if __name__ == "__main__":
    main()
