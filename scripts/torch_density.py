#!/usr/bin/env python3
"""The density models' numbers (`cnf`, `vae`) recomputed in PyTorch float64, from their definitions.

An independent computation of what `cnf.json` and `vae.json` say (DensityTorchTest), from the run's
saved weights and the seeded draws, which the script makes itself with its own copy of
java.util.Random (the documented LCG and polar method): the test points, the plots' noise, the VAE's
test binarisation and importance samples. Each number follows its textbook definition, written from
the README and PAPERS.md, not from the Java code:

  cnf   f(z, t) = W3 tanh(W2 tanh(W1 [z; t] + b1) + b2) + b3 (weights.npz, PyTorch layout);
        log p(x) = log N(z(T); 0, I) + integral_0^T Tr(df/dz) dt with the trace by autograd;
        dopri5 as in Hairer, Norsett & Wanner (I, II.4 and II.5: the starting step, the RMS norm
        of err / (atol + rtol max(|y|, |y_new|)) over the whole batch's state, factor 0.9 err^(-1/5)
        in [0.2, 10], at most 1 after a rejection; 2 + 6 evaluations per attempted step), RK4 with
        4 evaluations a step; the test log-likelihood (mean, standard error), its value with the
        solve tightened to 1e-12, the log-det against log|det dz(T)/dx| of the solution map itself
        (autograd through a fine RK4), the inversion error and bound, the NFE, Hutchinson's estimates
        e^T (df/dz) e (given noise) and their mean over the four Rademacher signs, which is the trace;
        the targets' exact densities (two-moons and rings by quadrature over the angle) and the best
        achievable test log-likelihood, minus each target's entropy
  vae   the encoder, flow and decoder of the README on vae's weights.npz (SAME padding of a stride-2
        convolution: one row and column after, none before), in float64; log w = log p(x|zK) +
        log N(zK) - log N(z0; mu, sigma^2) + log|det dzK/dz0|, the log-det of the flow taken from
        the Jacobian of the whole flow (autograd, slogdet), the Sylvester steps' Q as the polar
        factor (SVD) of its raw matrix; ELBO = mean log w, IS-NLL = -log mean_k w_k (log-sum-exp)
        averaged over the images, its standard error over the images

Usage: python3 scripts/torch_density.py DIR
DIR/density.json: {"cnf": a list of cnf --out directories, "hutchinson": an .npz of points `x` [n, 2],
`noise` [k, n, 2] and our estimated log-dets `estimates` [k, n] of the first one's flow, "vae": a
list of vae --out directories, "data": their IDX directory}, any part may be missing.
Prints one JSON object: `checks` (per number: ours, theirs, tolerance, ok), `failed`, and `measured`
(what the recomputation found beside: the best log-likelihoods, the solver's error). Exit 0 when
every check holds, 1 when one does not, 2 on files it cannot use or without PyTorch and NumPy.
"""
import json, math, os, sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"torch_density: needs PyTorch and NumPy ({e}; Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(2)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_port import BadFile, check_main, read_npz, read_spec  # noqa: E402
from torch_analysis import idx_file, read_idx  # noqa: E402

torch.set_default_dtype(torch.float64)
LOG_2PI = math.log(2 * math.pi)


class Checks:
    def __init__(self):
        self.checks, self.measured = {}, {}

    def close(self, name, ours, theirs, tol, relative=False):
        ours = float("nan") if ours is None else float(ours)
        scale = max(1.0, abs(theirs)) if relative else 1.0
        ok = abs(ours - theirs) <= tol * scale
        self.checks[name] = {"ours": ours, "theirs": float(theirs), "tolerance": tol, "ok": bool(ok)}

    def equal(self, name, ours, theirs):
        self.checks[name] = {"ours": ours, "theirs": theirs, "ok": ours == theirs}

    def below(self, name, value, bound):
        self.checks[name] = {"value": value, "bound": bound, "ok": value is not None and value <= bound}


# ---------------------------------------------------------------- java.util.Random


class JavaRandom:
    """java.util.Random as its Javadoc specifies it: a 48-bit LCG, nextGaussian by the polar method."""
    MULT, MASK = 0x5DEECE66D, (1 << 48) - 1

    def __init__(self, seed):
        self.seed = (seed ^ self.MULT) & self.MASK
        self.spare = None

    def next(self, bits):
        self.seed = (self.seed * self.MULT + 0xB) & self.MASK
        r = self.seed >> (48 - bits)
        return r - (1 << 32) if r >= 1 << 31 else r

    def next_double(self):
        return ((self.next(26) << 27) + self.next(27)) * 2.0 ** -53

    def next_int(self, bound):
        r = self.next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < 1 << 31:
                return r
            u = self.next(31)

    def next_boolean(self):
        return self.next(1) != 0

    def next_gaussian(self):
        if self.spare is not None:
            g, self.spare = self.spare, None
            return g
        while True:
            v1, v2 = 2 * self.next_double() - 1, 2 * self.next_double() - 1
            s = v1 * v1 + v2 * v2
            if 0 < s < 1:
                break
        mul = math.sqrt(-2 * math.log(s) / s)
        self.spare = v2 * mul
        return v1 * mul


def mix(*parts):
    """The workbench's derived seeds (Seeds.mix): SplitMix64 steps over the parts, as a Java long."""
    full = (1 << 64) - 1
    h = 0x243F6A8885A308D3
    for p in parts:
        z = ((h ^ (p & full)) + 0x9E3779B97F4A7C15) & full
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & full
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & full
        h = z ^ (z >> 31)
    return h - (1 << 64) if h >= 1 << 63 else h


# ---------------------------------------------------------------- toy densities


def draw(target, rng, n):
    """The README's samplers (FFJORD's shapes), in the order the workbench draws their numbers."""
    out = np.empty((n, 2))
    for i in range(n):
        if target == "two-moons":
            a = math.pi * rng.next_double()
            upper = rng.next_boolean()
            x, y = (math.cos(a), math.sin(a)) if upper else (1 - math.cos(a), 0.5 - math.sin(a))
            out[i] = (2 * (x + 0.1 * rng.next_gaussian()) - 1, 2 * (y + 0.1 * rng.next_gaussian()) - 0.2)
        elif target == "rings":
            r = 3 * (1 - 0.25 * rng.next_int(4))
            a = 2 * math.pi * rng.next_double()
            out[i] = (r * math.cos(a) + 0.08 * rng.next_gaussian(), r * math.sin(a) + 0.08 * rng.next_gaussian())
        elif target == "checkerboard":
            x = 4 * rng.next_double() - 2
            y = rng.next_double() - 2 * rng.next_int(2) + math.floor(x) % 2
            out[i] = (2 * x, 2 * y)
        elif target == "8-gaussians":
            a = math.pi / 4 * rng.next_int(8)
            out[i] = ((4 * math.cos(a) + 0.5 * rng.next_gaussian()) / math.sqrt(2),
                      (4 * math.sin(a) + 0.5 * rng.next_gaussian()) / math.sqrt(2))
        else:
            raise BadFile("unknown target %r" % target)
    return out


def _logsumexp(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))).squeeze(axis)


def true_log_density(target, x):
    """log p(x) of the data distribution itself: closed forms, or for two-moons quadrature over the angle."""
    x = np.asarray(x, dtype=np.float64)
    if target == "8-gaussians":
        s2 = 0.125
        angles = np.pi / 4 * np.arange(8)
        c = np.stack([4 * np.cos(angles), 4 * np.sin(angles)], 1) / math.sqrt(2)
        d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
        return _logsumexp(-d2 / (2 * s2), 1) - math.log(8 * 2 * math.pi * s2)
    if target == "checkerboard":
        u, v = x[:, 0] / 2, x[:, 1] / 2
        inside = (np.abs(u) <= 2) & (np.abs(v) <= 2) & ((np.floor(u) + np.floor(v)) % 2 == 0)
        return np.where(inside, -math.log(32), -np.inf)
    if target == "rings":
        # Over the uniform angle the Gaussian ring integrates to a Rice density:
        # exp(-(rho^2 + r^2) / 2 s^2) I0(rho r / s^2) / (2 pi s^2), with I0 scaled (i0e) to stay finite.
        s2, rho = 0.08 ** 2, torch.from_numpy(np.hypot(x[:, 0], x[:, 1]))
        parts = [math.log(0.25) - (rho - r) ** 2 / (2 * s2) + torch.log(torch.special.i0e(rho * r / s2))
                 for r in (3, 2.25, 1.5, 0.75)]
        return (torch.logsumexp(torch.stack(parts), 0) - math.log(2 * math.pi * s2)).numpy()
    if target == "two-moons":
        # x = 2 (m(a) + 0.1 e) + shift: a Gaussian of standard deviation 0.2 around 2 m(a) + shift,
        # averaged over a uniform in [0, pi] by Gauss-Legendre (the integrand is analytic in a).
        s2 = 0.2 ** 2
        nodes, weights = np.polynomial.legendre.leggauss(300)
        a = np.pi / 2 * (nodes + 1)
        upper = np.stack([np.cos(a), np.sin(a)], -1)
        lower = np.stack([1 - np.cos(a), 0.5 - np.sin(a)], -1)
        c = 2 * np.concatenate([upper, lower]) + np.array([-1, -0.2])
        d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
        log_w = np.log(np.concatenate([weights, weights]) / 4)  # two moons, each a mean over [0, pi]
        return _logsumexp(-d2 / (2 * s2) + log_w, 1) - math.log(2 * math.pi * s2)
    raise BadFile("unknown target %r" % target)


def rms(v):
    return torch.sqrt(torch.mean(v * v)).item()


def rk4(fun, y, t0, t1, steps):
    h = (t1 - t0) / steps
    for s in range(steps):
        t = t0 + s * h
        k1 = fun(t, y)
        k2 = fun(t + h / 2, y + h / 2 * k1)
        k3 = fun(t + h / 2, y + h / 2 * k2)
        k4 = fun(t + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y, 4 * steps


# Dormand & Prince (1980), the tableau of Hairer, Norsett & Wanner I, table 5.2.
C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1]
A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9],
     [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
     [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
     [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]]
B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0]
B4 = [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40]


def dopri5(fun, y0, t0, t1, rtol, atol, max_steps=100000):
    """Returns y(t1) and the number of evaluations of fun."""
    y = y0.clone()
    direction = 1.0 if t1 > t0 else -1.0
    f0 = fun(t0, y)
    # The starting step, Hairer I, II.4 ("Starting step size").
    sc = atol + rtol * y.abs()
    d0, d1 = rms(y / sc), rms(f0 / sc)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    f1 = fun(t0 + direction * h0, y + direction * h0 * f0)
    d2 = rms((f1 - f0) / sc) / h0
    h1 = max(1e-6, h0 * 1e-3) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** (1 / 5)
    h = direction * min(100 * h0, h1)
    nfe, t, k1, steps = 2, t0, f0, 0
    while direction * (t1 - t) > 0:
        steps += 1
        if steps > max_steps:
            raise RuntimeError("dopri5: more than %d steps" % max_steps)
        if direction * (t + h - t1) > 0:
            h = t1 - t
        k = [k1]
        for i in range(1, 7):
            yi = y + h * sum(a * kj for a, kj in zip(A[i], k))
            k.append(fun(t + C[i] * h, yi))
        nfe += 6
        y_new = y + h * sum(b * kj for b, kj in zip(B5, k))
        err = h * sum((b5 - b4) * kj for b5, b4, kj in zip(B5, B4, k))
        e = rms(err / (atol + rtol * torch.maximum(y.abs(), y_new.abs())))
        factor = 10.0 if e == 0 else min(10.0, max(0.2, 0.9 * e ** -0.2))
        if e <= 1:
            t = t1 if direction * (t1 - (t + h)) <= 0 else t + h
            y, k1 = y_new, k[6]
        else:
            factor = min(1.0, factor)
        h *= factor
    return y, nfe


# ---------------------------------------------------------------- cnf


class Dynamics:
    def __init__(self, w):
        self.w = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in w.items()}
        self.d = self.w["net.4.weight"].shape[0]

    def f(self, t, z):
        w = self.w
        zt = torch.cat([z, torch.full((z.shape[0], 1), float(t))], 1)
        h1 = torch.tanh(zt @ w["net.0.weight"].T + w["net.0.bias"])
        h2 = torch.tanh(h1 @ w["net.2.weight"].T + w["net.2.bias"])
        return h2 @ w["net.4.weight"].T + w["net.4.bias"]

    def f_and_jacobian_rows(self, t, z, vectors):
        """f(z, t) and, for each v in vectors, v^T (df/dz) per row (autograd)."""
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            f = self.f(t, z)
            rows = [torch.autograd.grad(f, z, v, retain_graph=True)[0] for v in vectors]
        return f.detach(), rows

    def augmented(self, noise=None):
        """d/dt [z, logdet] with the exact trace, or e^T (df/dz) e for a given noise e."""
        d = self.d

        def fun(t, y):
            n = y.shape[0] // (d + 1)
            z = y[:n * d].reshape(n, d)
            if noise is None:
                f, rows = self.f_and_jacobian_rows(t, z, [F.one_hot(torch.full((n,), i), d).double() for i in range(d)])
                trace = sum(rows[i][:, i] for i in range(d))
            else:
                f, (row,) = self.f_and_jacobian_rows(t, z, [noise])
                trace = (row * noise).sum(1)
            return torch.cat([f.reshape(-1), trace])
        return fun


def transport(dyn, x, t0, t1, solve, noise=None):
    n, d = x.shape
    y, nfe = solve(dyn.augmented(noise), torch.cat([x.reshape(-1), torch.zeros(n)]), t0, t1)
    return y[:n * d].reshape(n, d), y[n * d:], nfe


def log_normal(z):
    return -0.5 * (z * z).sum(1) - z.shape[1] / 2 * LOG_2PI


def read_result(directory, name):
    """A run's result file (cnf.json, vae.json), or BadFile naming it."""
    try:
        with open(os.path.join(directory, name)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise BadFile("%s: cannot read %s (%s)" % (directory, name, e))


def check_cnf(c, directory, hutchinson):
    ours = read_result(directory, "cnf.json")
    dyn = Dynamics(read_npz(os.path.join(directory, "weights.npz")))
    T, tol, n, target = ours["integrationTime"], float(ours["evalSolver"].split("rtol=")[1].split(",")[0]), \
        ours["testSamples"], ours["target"]
    name = "cnf %s " % target
    evaluate = lambda fun, y, t0, t1: dopri5(fun, y, t0, t1, tol, tol)
    rng = JavaRandom(ours["seed"] + 1_000_003)
    x = torch.from_numpy(draw(target, rng, n))

    z, log_det, nfe = transport(dyn, x, 0, T, evaluate)
    log_p = log_normal(z) + log_det
    mean = log_p.mean().item()
    c.close(name + "testLogLikelihood", ours["testLogLikelihood"], mean, 1e-10, relative=True)
    c.close(name + "testLogLikelihoodStdError", ours["testLogLikelihoodStdError"],
            (log_p.std(unbiased=True) / math.sqrt(n)).item(), 1e-10, relative=True)
    c.equal(name + "nfeTestForward", ours["nfeTestForward"], nfe)

    # The same log-likelihood with the solver's error taken out: what eval-tol costs.
    z_fine, log_det_fine, _ = transport(dyn, x, 0, T, lambda fun, y, t0, t1: dopri5(fun, y, t0, t1, 1e-12, 1e-12))
    exact = (log_normal(z_fine) + log_det_fine).mean().item()
    c.measured[name + "solver error of the mean log-likelihood"] = abs(mean - exact)
    # dopri5's global error is a multiple of its per-step tolerance: the bound of cnf's inversion check.
    c.close(name + "testLogLikelihood (solve at 1e-12)", ours["testLogLikelihood"], exact, 1000 * tol, relative=True)

    # The integrated trace against the solution map's own Jacobian (change of variables), on a few points.
    few = x[:16]
    with torch.enable_grad():
        xs = few.clone().requires_grad_(True)
        zs, _ = rk4(lambda t, y: dyn.f(t, y), xs, 0, T, 400)
        jac = torch.stack([torch.autograd.grad(zs[:, i].sum(), xs, retain_graph=True)[0] for i in range(2)], 1)
    brute = torch.linalg.slogdet(jac)[1]
    _, ld_fine, _ = transport(dyn, few, 0, T, lambda fun, y, t0, t1: rk4(fun, y, t0, t1, 400))
    c.below(name + "log-det = log|det dz(T)/dx| (autograd through RK4)", (brute - ld_fine).abs().max().item(), 1e-10)

    back, _, _ = transport(dyn, z, T, 0, evaluate)
    err = (back - x).abs().max().item()
    c.close(name + "inversionMaxAbsError", ours["inversionMaxAbsError"], err, 1e-9, relative=True)
    c.close(name + "inversionTolerance", ours["inversionTolerance"], 1000 * tol * (1 + x.abs().max().item()), 1e-12,
            relative=True)
    c.equal(name + "inversionHolds", ours["inversionHolds"], err <= 1000 * tol * (1 + x.abs().max().item()))

    plot = ours["plotSamples"]
    draw(target, rng, plot)  # the data histogram's points, drawn before the samples' noise
    noise = torch.tensor([rng.next_gaussian() for _ in range(2 * plot)]).reshape(-1, 2)
    _, _, nfe_sampling = transport(dyn, noise, T, 0, evaluate)
    c.equal(name + "nfeSampling", ours["nfeSampling"], nfe_sampling)
    solver = ours["trainSolver"]
    if solver.startswith("rk4"):
        steps = int(solver.split("steps=")[1].rstrip(")"))
        c.equal(name + "nfeForwardPerIteration (rk4)", ours["nfeForwardPerIteration"], 4.0 * steps)
        c.equal(name + "nfeBackwardPerIteration (rk4)", ours["nfeBackwardPerIteration"], 4.0 * steps)
    c.equal(name + "parameters", ours["parameters"], sum(v.numel() for v in dyn.w.values()))

    truth = torch.from_numpy(true_log_density(target, x.numpy()))
    gap = log_p - truth
    c.measured[name + "true mean log-density of the test points"] = truth.mean().item()
    c.measured[name + "best achievable (minus the entropy)"] = best_log_likelihood(target)
    # No model beats the data's own density on average (the gap is minus a KL estimate).
    c.below(name + "testLogLikelihood <= the data's own (4 standard errors)", gap.mean().item(),
            4 * (gap.std() / math.sqrt(n)).item())

    if hutchinson is not None:
        check_hutchinson(c, dyn, T, tol, hutchinson)


def best_log_likelihood(target):
    """Minus the target's entropy, the integral of p log p: exact for the checkerboard (uniform on 8
    squares of area 4), by the midpoint rule on a grid of step h over a square holding all but 1e-7
    of the mass otherwise (radially, for the rotation-invariant rings)."""
    if target == "checkerboard":
        return -math.log(32)
    if target == "rings":
        h = 1e-4
        rho = np.arange(0, 5, h) + h / 2
        lp = true_log_density(target, np.stack([rho, np.zeros_like(rho)], 1))
        return float(np.sum(np.exp(lp) * lp * 2 * np.pi * rho * h))
    h, side = (0.01, 6) if target == "8-gaussians" else (0.02, 4)
    g = np.arange(-side, side, h) + h / 2
    pts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    lp = np.concatenate([true_log_density(target, p) for p in np.array_split(pts, 100)])
    return float(np.sum(np.exp(lp) * lp) * h * h)


def check_hutchinson(c, dyn, T, tol, h):
    x = torch.from_numpy(h["x"].astype(np.float64))
    noise = torch.from_numpy(h["noise"].astype(np.float64))
    ours = h["estimates"].astype(np.float64)
    solve = lambda fun, y, t0, t1: dopri5(fun, y, t0, t1, tol, tol)
    theirs = np.stack([transport(dyn, x, 0, T, solve, noise[k])[1].numpy() for k in range(noise.shape[0])])
    c.below("cnf Hutchinson estimates (same noise)", float(np.abs(ours - theirs).max()), 1e-9)
    exact = transport(dyn, x, 0, T, lambda fun, y, t0, t1: dopri5(fun, y, t0, t1, 1e-12, 1e-12))[1].numpy()
    signs = h["noise"]
    if signs.shape[0] == 4 and np.all(np.abs(signs) == 1):
        # Over the four Rademacher vectors (+-1, +-1) the cross terms cancel: the mean is the trace exactly.
        c.below("cnf Hutchinson mean over the four signs = exact log-det", float(np.abs(ours.mean(0) - exact).max()),
                1000 * tol)

# ---------------------------------------------------------------- vae


def conv_same(x, w_yxio, b, stride):
    """A 3x3 convolution with 'same' padding: ceil(size / stride) outputs, the padding split with
    the odd one after (TensorFlow's rule, which libnd4j follows); weights [kh, kw, in, out]."""
    size = x.shape[-1]
    total = max((math.ceil(size / stride) - 1) * stride + 3 - size, 0)
    x = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))
    return F.conv2d(x, w_yxio.permute(3, 2, 0, 1), b, stride=stride)


def polar_factor(a):
    """The orthonormal matrix nearest a (its polar factor U V^T), where the paper's iteration converges."""
    u, _, vt = torch.linalg.svd(a, full_matrices=False)
    return u @ vt


def reflection(v):
    d = v.shape[0]
    vv = v @ v
    return torch.eye(d) if vv == 0 else torch.eye(d) - 2 * torch.outer(v, v) / vv


class Flow:
    """One image's posterior flow, its steps made from the encoder's raw outputs (README's layout)."""

    def __init__(self, cfg, raw):
        d, kind, self.steps = cfg["latent"], cfg["flow"], []
        if kind == "householder":
            for t in range(cfg["flow_steps"]):
                h = reflection(raw[t * d:(t + 1) * d])
                self.steps.append(lambda z, h=h: z @ h.T)
            return
        at = 0
        for k in range(cfg["flow_steps"] if kind != "none" else 0):
            if kind == "planar":
                u, w, b = raw[at:at + d], raw[at + d:at + 2 * d], raw[at + 2 * d]
                at += 2 * d + 1
                wu = w @ u
                # Rezende & Mohamed, appendix A.1: w.u_hat = m(w.u) = -1 + softplus(w.u) > -1.
                u_hat = u if w @ w == 0 else u + (F.softplus(wu) - 1 - wu) * w / (w @ w)
                self.steps.append(lambda z, u=u_hat, w=w, b=b: z + torch.tanh(z @ w + b)[:, None] * u)
                continue
            m = {"sylvester-orthogonal": cfg["orthonormal"]}.get(kind, d)
            full = raw[at:at + m * m].reshape(m, m)
            d1, d2, b = raw[at + m * m:at + m * m + m], raw[at + m * m + m:at + m * m + 2 * m], \
                raw[at + m * m + 2 * m:at + m * m + 3 * m]
            at += m * m + 3 * m
            r = torch.triu(full, 1) + torch.diag(torch.tanh(d1))
            r_tilde = torch.triu(full.T, 1) + torch.diag(torch.tanh(d2))
            if kind == "sylvester-orthogonal":
                q = polar_factor(raw[at:at + d * m].reshape(d, m))
                at += d * m
            elif kind == "sylvester-householder":
                q = torch.eye(d)
                for t in range(cfg["reflections"]):
                    q = q @ reflection(raw[at + t * d:at + (t + 1) * d])
                at += cfg["reflections"] * d
            elif kind == "sylvester-triangular":
                q = torch.eye(d) if k % 2 == 0 else torch.eye(d).flip(1)
            else:
                raise BadFile("unknown flow %r" % kind)
            self.steps.append(lambda z, q=q, r=r, rt=r_tilde, b=b: z + torch.tanh(z @ q @ rt.T + b) @ r.T @ q.T)
        if at != raw.shape[0]:
            raise BadFile("the encoder emits %d flow parameters, the flow takes %d" % (raw.shape[0], at))

    def __call__(self, z):
        for f in self.steps:
            z = f(z)
        return z

    def log_det(self, z):
        """log|det dzK/dz0| per row, from the Jacobian of the whole flow (autograd)."""
        if not self.steps:
            return torch.zeros(z.shape[0])
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            out = self(z)
            # Rows do not interact: row b of the gradient of sum_b out[b, i] is row b's Jacobian row i.
            jac = torch.stack([torch.autograd.grad(out[:, i].sum(), z, retain_graph=True)[0]
                               for i in range(z.shape[1])], 1)
        return torch.linalg.slogdet(jac)[1]


class Vae:
    def __init__(self, w, cfg):
        self.w = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in w.items()}
        self.cfg = cfg

    def dense(self, name, x):
        return x @ self.w[name + ".w"] + self.w[name + ".b"].reshape(-1)

    def encode(self, x):
        w = self.w
        h = F.relu(conv_same(x.reshape(-1, 1, 28, 28), w["enc.conv1.w"], w["enc.conv1.b"], 2))
        h = F.relu(conv_same(h, w["enc.conv2.w"], w["enc.conv2.b"], 2))
        h = F.relu(self.dense("enc.fc", h.reshape(h.shape[0], -1)))
        return self.dense("enc.head", h)

    def logits(self, z):
        w = self.w
        h = F.relu(self.dense("dec.fc1", z))
        h = F.relu(self.dense("dec.fc2", h)).reshape(-1, 32, 7, 7)
        h = F.relu(conv_same(F.interpolate(h, scale_factor=2, mode="nearest"), w["dec.conv1.w"], w["dec.conv1.b"], 1))
        return conv_same(F.interpolate(h, scale_factor=2, mode="nearest"), w["dec.conv2.w"], w["dec.conv2.b"], 1) \
            .reshape(-1, 784)

    def log_weights(self, x, eps):
        """log w of each latent sample eps [k, D] of one image x [784]."""
        d = self.cfg["latent"]
        head = self.encode(x[None])[0]
        mu, log_var, raw = head[:d], head[d:2 * d], head[2 * d:]
        sigma = torch.exp(0.5 * log_var)
        z0 = mu + sigma * eps
        flow = Flow(self.cfg, raw)
        zk = flow(z0)
        log_q0 = (-0.5 * ((z0 - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * LOG_2PI).sum(1)
        log_px = -F.binary_cross_entropy_with_logits(self.logits(zk), x.expand(len(eps), -1), reduction="none").sum(1)
        return log_px + log_normal(zk) - (log_q0 - flow.log_det(z0))


def binarised_test_images(data, count, seed):
    """The first `count` test images k/255 (float32) binarised once: pixel > u with u ~ U(0, 1) in float32."""
    images = read_idx(idx_file(data, "t10k-images-idx3-ubyte"))[:count].reshape(count, 784)
    grey = images.astype(np.float32) / np.float32(255)
    rng = JavaRandom(mix(seed, 1))
    u = np.array([np.float32((2 * rng.next_double() - 1) * 0.5) for _ in range(grey.size)], dtype=np.float32)
    u = (u + np.float32(0.5)).reshape(grey.shape)
    return torch.from_numpy((grey > u).astype(np.float64))


def check_vae(c, directory, data):
    ours = read_result(directory, "vae.json")
    weights = read_npz(os.path.join(directory, "weights.npz"))
    # A float32 model draws its importance samples in float32 (Init.normal casts each draw).
    single = weights["enc.head.w"].dtype == np.float32
    model = Vae(weights, ours)
    n, k, d = ours["test_images"], ours["is_samples"], ours["latent"]
    x = binarised_test_images(data, n, ours["seed"])
    rng = JavaRandom(mix(ours["seed"], 3))
    elbo, nll = [], []
    for i in range(n):
        eps = [rng.next_gaussian() for _ in range(k * d)]
        eps = np.array(eps, dtype=np.float32 if single else np.float64)
        lw = model.log_weights(x[i], torch.from_numpy(eps.astype(np.float64)).reshape(k, d))
        elbo.append(lw.mean().item())
        nll.append(-(torch.logsumexp(lw, 0) - math.log(k)).item())
    nll = np.array(nll)
    # A float32 model's log w (hundreds of nats, a sum over 784 pixels) is good to about 1e-6 relative
    # (measured 2e-8 to 4e-7 on the six flows); a float64 one's to rounding.
    name, tol = ("vae %s" if single else "vae %s float64") % ours["flow"], 1e-5 if single else 1e-11
    c.close(name + " test_elbo_nats", ours["test_elbo_nats"], float(np.mean(elbo)), tol, relative=True)
    c.close(name + " test_is_nll_nats", ours["test_is_nll_nats"], float(nll.mean()), tol, relative=True)
    c.close(name + " test_is_nll_std_error", ours["test_is_nll_std_error"],
            float(nll.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0, 10 * tol, relative=True)
    c.equal(name + " params", ours["params"], sum(v.numel() for v in model.w.values()))
    c.equal(name + " flow_params_per_image", ours["flow_params_per_image"], model.w["enc.head.w"].shape[1] - 2 * d)


# ---------------------------------------------------------------- main


def listed(spec, key):
    """The run directories spec names under key: a list, or one directory."""
    value = spec.get(key, [])
    return [value] if isinstance(value, str) else value


def run(directory):
    spec = read_spec(directory, "density.json")
    c = Checks()
    with torch.no_grad():
        for i, directory in enumerate(listed(spec, "cnf")):
            check_cnf(c, directory, read_npz(spec["hutchinson"]) if i == 0 and "hutchinson" in spec else None)
        for directory in listed(spec, "vae"):
            check_vae(c, directory, spec["data"])
    return c


def main():
    check_main("torch_density", __doc__, run, "measured")


if __name__ == "__main__":
    main()
