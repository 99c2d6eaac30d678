"""Training: the update of ``tutor.network.run``, repeated many times, fast.

``run`` names every quantity of one update; training needs only the weights.  For speed the
update loop is *compiled for the network's shape*: ``Loop`` writes the forward pass, the deltas
and the updates out as straight-line Python (one local variable per weight, no lists, no calls
but ``exp``/``tanh``) and compiles it once.  The source is built only from this module's
templates, the activation and loss templates of ``tutor.network``'s registries, and indices:
no text of a lesson file or of the user reaches it (the lesson's numbers are passed in as
arguments), so the same shape always compiles the same source — a test checks that.

``slow_updates`` is the same update written as plain loops over lists; it is the fallback where
the compiled loop meets an overflow (a logistic of a net input below −709), and the oracle the
compiled loop is tested against.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from backprop_tutor.answers import agrees, parse_number
from backprop_tutor.errors import TutorError
from backprop_tutor.lesson import Claim, Lesson
from backprop_tutor.network import ACTIVATIONS, LOSSES, Network, nlog, softmax

MAX_CHUNK = 20_000  # updates between two looks at the state (progress bar, Ctrl-C, --until)


class Diverged(TutorError):
    exit_code = 1

    def __init__(self, update: int):
        self.update = update
        super().__init__(f"training diverged at update {update:,}: the error is no longer a finite "
                         "number; try a smaller learning rate")


# ---------------------------------------------------------------------------------------------
# The update loop, compiled for one network's shape


class Loop:
    """Updates of gradient descent on one network's sample, on a flat list of parameters
    (the weights in the order w1, w2, …, then the biases b1, …)."""

    def __init__(self, net: Network, learning_rate: float | None = None, through_updated: bool = False):
        self.net = net
        self.eta = net.learning_rate if learning_rate is None else learning_rate
        self.through_updated = through_updated
        self.names = net.layout.weight_names() + net.layout.bias_names()
        self.source = loop_source(net, through_updated)
        namespace: dict[str, object] = {"exp": math.exp, "tanh": math.tanh, "log": math.log, "nlog": nlog}
        exec(compile(self.source, "<tutor.training loop>", "exec"), namespace)
        make = namespace["make"]
        self._step, self._forward = make(net.inputs, net.targets, self.eta)  # type: ignore[operator]

    @property
    def updates_per_epoch(self) -> int:
        return 1

    def params(self, net: Network | None = None) -> list[float]:
        net = net or self.net
        values = net.weights | net.biases
        return [values[n] for n in self.names]

    def network(self, p: list[float]) -> Network:
        return self.net.with_values(**dict(zip(self.names, p, strict=True)))

    def evaluate(self, p: list[float]) -> tuple[float, tuple[float, ...]]:
        """E_total and the outputs for these parameters."""
        try:
            return self._forward(p)
        except OverflowError:
            net = self.network(p)
            return _slow_forward(net, self.params(net))

    def step(self, p: list[float], n: int, done: int = 0) -> None:
        """``n`` updates, in place. ``done``: updates before these (for a divergence's number)."""
        start = list(p)
        try:
            self._step(p, n)
            error, _ = self._forward(p)
        except OverflowError:
            p[:] = start
            slow_updates(self.net, p, n, self.eta, self.through_updated, done)
            return
        if not math.isfinite(error):
            p[:] = start  # find the exact update where it went wrong
            slow_updates(self.net, p, n, self.eta, self.through_updated, done)


class BatchLoop(Loop):
    """Several samples: each update sums (or averages) the gradients of one batch of samples.

    ``batch_size`` None means the full batch; otherwise the samples are taken in order, in batches
    of that size, one update per batch (the last batch of an epoch may be smaller)."""

    def __init__(self, net: Network, learning_rate: float | None = None, batch_size: int | None = None):
        self.net = net
        self.eta = net.learning_rate if learning_rate is None else learning_rate
        self.through_updated = False
        self.names = net.layout.weight_names() + net.layout.bias_names()
        n = len(net.samples)
        size = n if batch_size is None else min(batch_size, n)
        self.batches = [list(range(k, min(k + size, n))) for k in range(0, n, size)]
        self.source = batch_source(net)
        namespace: dict[str, object] = {"exp": math.exp, "tanh": math.tanh, "log": math.log, "nlog": nlog}
        exec(compile(self.source, "<tutor.training batch loop>", "exec"), namespace)
        rows = [tuple(x) + tuple(y) for x, y in net.samples]
        scales = [1 / len(b) if net.batch == "mean" else 1.0 for b in self.batches]
        self._step, self._forward = namespace["make"](  # type: ignore[operator]
            rows, self.eta, [[rows[k] for k in b] for b in self.batches], scales, 1 / n if net.batch == "mean" else 1)

    @property
    def updates_per_epoch(self) -> int:
        return len(self.batches)

    def step(self, p: list[float], n: int, done: int = 0) -> None:
        start = list(p)
        try:
            self._step(p, n, done)
            error, _ = self._forward(p)
        except OverflowError:
            error = math.nan
        if not math.isfinite(error):
            p[:] = start
            slow_batch_updates(self, p, n, done)

    def evaluate(self, p: list[float]) -> tuple[float, tuple[float, ...]]:
        try:
            return self._forward(p)
        except OverflowError:
            return _slow_batch_forward(self.network(p))


def slow_batch_updates(loop: BatchLoop, p: list[float], n: int, done: int = 0) -> None:
    """The batch updates through the engine, one sample at a time: the fallback of ``BatchLoop``."""
    from backprop_tutor.network import run_one

    net = loop.network(p)
    trained = [*net.weights, *(net.biases if net.train_biases else [])]
    for u in range(done, done + n):
        batch = loop.batches[u % len(loop.batches)]
        scale = 1 / len(batch) if net.batch == "mean" else 1.0
        grads = dict.fromkeys(trained, 0.0)
        for k in batch:
            t = run_one(net.sample(k + 1))
            for name in trained:
                grads[name] += t[f"dE_total/d{name}"]
        if not all(math.isfinite(g) for g in grads.values()):
            raise Diverged(u)
        values = net.weights | net.biases
        net = net.with_values(**{name: values[name] - loop.eta * scale * grads[name] for name in trained})
    p[:] = loop.params(net)


def _slow_batch_forward(net: Network) -> tuple[float, tuple[float, ...]]:
    errors: list[float] = []
    outs: list[float] = []
    for k in range(1, len(net.samples) + 1):
        error, out = _slow_forward(net.sample(k), [*net.weights.values(), *net.biases.values()])
        errors.append(error)
        outs.extend(out)
    return sum(errors) / (len(errors) if net.batch == "mean" else 1), tuple(outs)


def batch_source(net: Network) -> str:
    """Python source of ``make(samples, eta, batches, scales, error_scale) -> (step, forward)``."""
    single = loop_source(net.sample(1)).split("\n")
    L = net.layout
    names = L.weight_names() + L.bias_names()
    var = {name: _var("p", k) for k, name in enumerate(names)}
    params = ", ".join(var[n] for n in names) + ("," if len(names) == 1 else "")
    row = ", ".join([*(_var("x", s) for s in range(L.sizes[0])), *(_var("y", k) for k in range(L.sizes[-1]))])
    ysum = " + ".join(_var("y", k) for k in range(L.sizes[-1]))
    # the per-sample lines of the single-sample loop: its forward pass and deltas, without its updates
    start = single.index("        for _ in range(count):") + 1
    body = [line for line in single[start:] if line.startswith(" " * 12)]
    work = [line for line in body if not re.match(r"\s+(p\d+ -=|g\d+_\d+ = rate)", line)]
    accumulate, update = [], []
    trained = [n for n in names if n.startswith("w") or net.train_biases]
    src = {}
    for l in range(1, L.depth + 1):
        for r in range(L.sizes[l]):
            for s in range(L.sizes[l - 1]):
                src[L.weights[l - 1][r][s]] = (_var("d", l, r), _var("x", s) if l == 1 else _var("o", l - 1, s))
    for name in trained:
        a = "a" + var[name][1:]
        if name in src:
            d, x = src[name]
            accumulate.append(f"                {a} += {d} * {x}")
        else:
            fed = [_var("d", l + 1, r) for l, biases in enumerate(L.biases) for r, b in enumerate(biases) if b == name]
            accumulate.append(f"                {a} += {' + '.join(fed)}")
        update.append(f"            {var[name]} -= step_size * {a}")
    fwd = single[single.index("    def forward(p):") + 2:single.index("    return step, forward") - 1]
    error, outs = fwd[-1].strip()[len("return "):].rsplit(", (", 1)  # "<error>, (o2_0, o2_1)"
    source = "\n".join([
        "def make(samples, eta, batches, scales, error_scale):",
        "    def step(p, count, start, exp=exp, tanh=tanh, log=log):",
        f"        {params} = p",
        "        rate = eta",
        "        nb = len(batches)",
        "        for u in range(start, start + count):",
        *(f"            {'a' + var[n][1:]} = 0.0" for n in trained),
        f"            for {row} in batches[u % nb]:",
        f"                ysum = {ysum}",
        *("    " + line for line in work),
        *accumulate,
        "            step_size = rate * scales[u % nb]",
        *update,
        f"        p[:] = [{params.rstrip(',')}]",
        "",
        "    def forward(p):",
        f"        {params} = p",
        "        total = 0.0",
        "        outs = []",
        f"        for {row} in samples:",
        *("    " + line for line in fwd[:-1]),
        f"            total += {error}",
        f"            outs.extend(({outs})",
        "        return total * error_scale, tuple(outs)",
        "",
        "    return step, forward",
        "",
    ])
    if not re.fullmatch(r"[\w\s.,:=+\-*/()<>\[\]%]*", source):
        raise AssertionError("unexpected characters in the compiled training loop")
    return source


def make_loop(net: Network, learning_rate: float | None = None, through_updated: bool = False,
              batch_size: int | None = None) -> Loop:
    """The compiled loop for a network: one sample, or several in batches."""
    if net.extra:
        return BatchLoop(net, learning_rate, batch_size)
    return Loop(net, learning_rate, through_updated)


def _var(prefix: str, *indices: int) -> str:
    return prefix + "_".join(map(str, indices))


def loop_source(net: Network, through_updated: bool = False) -> str:
    """Python source of ``make(x, y, eta) -> (step, forward)`` for this network's shape."""
    L = net.layout
    acts = [ACTIVATIONS[a] for a in net.activations]
    loss = LOSSES[net.loss]
    names = L.weight_names() + L.bias_names()
    var = {name: _var("p", k) for k, name in enumerate(names)}
    depth = L.depth

    def src(l: int, s: int) -> str:
        return _var("x", s) if l == 0 else _var("o", l, s)

    def forward(indent: str) -> list[str]:
        lines = []
        for l in range(1, depth + 1):
            for r in range(L.sizes[l]):
                terms = [f"{var[L.weights[l - 1][r][s]]} * {src(l - 1, s)}" for s in range(L.sizes[l - 1])]
                n = _var("n", l, r)
                lines.append(f"{indent}{n} = {' + '.join(terms)} + {var[L.biases[l - 1][r]]}")
                if acts[l - 1].name != "softmax":
                    lines.append(f"{indent}{_var('o', l, r)} = {acts[l - 1].code.format(net=n)}")
            if acts[l - 1].name == "softmax":  # shifted by the largest net input, so exp cannot overflow
                nets = [_var("n", l, r) for r in range(L.sizes[l])]
                lines.append(f"{indent}top = max({', '.join(nets)})")
                lines += [f"{indent}{_var('e', l, r)} = exp({n} - top)" for r, n in enumerate(nets)]
                lines.append(f"{indent}total = {' + '.join(_var('e', l, r) for r in range(L.sizes[l]))}")
                lines += [f"{indent}{_var('o', l, r)} = {_var('e', l, r)} / total" for r in range(L.sizes[l])]
        return lines

    def deltas(l: int, indent: str, weights: dict[str, str]) -> list[str]:
        """The deltas of layer l < depth, from those of layer l + 1 through ``weights``."""
        lines = []
        for r in range(L.sizes[l]):
            total = " + ".join(f"{weights[L.weights[l][k][r]]} * {_var('d', l + 1, k)}"
                               for k in range(L.sizes[l + 1]))
            slope = acts[l - 1].slope_code.format(net=_var("n", l, r), out=_var("o", l, r))
            lines.append(f"{indent}{_var('d', l, r)} = ({total}) * ({slope})")
        return lines

    def updates(l: int, indent: str) -> list[str]:
        """The weights (and trained biases) into layer l, stepped against their gradients."""
        lines = []
        for r in range(L.sizes[l]):
            g = _var("g", l, r)  # η·δ, shared by every weight into this neuron
            lines.append(f"{indent}{g} = rate * {_var('d', l, r)}")
            for s in range(L.sizes[l - 1]):
                lines.append(f"{indent}{var[L.weights[l - 1][r][s]]} -= {g} * {src(l - 1, s)}")
        if net.train_biases:
            for b in dict.fromkeys(L.biases[l - 1]):
                fed = [_var("g", l, r) for r, name in enumerate(L.biases[l - 1]) if name == b]
                lines.append(f"{indent}{var[b]} -= {' + '.join(fed)}")
        return lines

    body = []
    i3 = " " * 12
    for k in range(L.sizes[-1]):
        o = _var("o", depth, k)
        if acts[-1].name == "softmax":  # with cross-entropy: Σ over the outputs, out·Σtarget − target
            body.append(f"{i3}{_var('d', depth, k)} = {o} * ysum - {_var('y', k)}")
            continue
        slope = acts[-1].slope_code.format(net=_var("n", depth, k), out=o)
        body.append(f"{i3}{_var('d', depth, k)} = ({loss.slope_code.format(target=_var('y', k), out=o)}) * ({slope})")
    if through_updated:  # the slip: each layer's weights updated before the error goes back through them
        for l in range(depth, 0, -1):
            body += updates(l, i3)
            if l > 1:
                body += deltas(l - 1, i3, var)
    else:  # every delta from the weights before the update, then every update
        for l in range(depth - 1, 0, -1):
            body += deltas(l, i3, var)
        for l in range(depth, 0, -1):
            body += updates(l, i3)

    params = ", ".join(var[n] for n in names) + ("," if len(names) == 1 else "")
    xs = ", ".join(_var("x", s) for s in range(L.sizes[0])) + ("," if L.sizes[0] == 1 else "")
    ys = ", ".join(_var("y", k) for k in range(L.sizes[-1])) + ("," if L.sizes[-1] == 1 else "")
    outs = ", ".join(_var("o", depth, k) for k in range(L.sizes[-1])) + ("," if L.sizes[-1] == 1 else "")
    error = " + ".join(loss.code.format(target=_var("y", k), out=_var("o", depth, k)) for k in range(L.sizes[-1]))
    source = "\n".join([
        "def make(x, y, eta):",
        f"    {xs} = x",
        f"    {ys} = y",
        "",
        "    def step(p, count, exp=exp, tanh=tanh, log=log):",
        f"        {params} = p",
        f"        {xs} = x",  # locals, not the closure's cells: faster to read in the loop
        f"        {ys} = y",
        "        rate = eta",
        f"        ysum = {ys.rstrip(',').replace(', ', ' + ')}",
        "        for _ in range(count):",
        *forward(i3),
        *body,
        f"        p[:] = [{params.rstrip(',')}]",
        "",
        "    def forward(p):",
        f"        {params} = p",
        *forward(" " * 8),
        f"        return {error}, ({outs})",
        "",
        "    return step, forward",
        "",
    ])
    if not re.fullmatch(r"[\w\s.,:=+\-*/()<>\[\]]*", source):  # only what the templates above can write
        raise AssertionError("unexpected characters in the compiled training loop")
    return source


# ---------------------------------------------------------------------------------------------
# The same update as plain loops: the fallback, and the oracle in the tests


def _layers(net: Network, p: list[float]) -> tuple[list, list]:
    L = net.layout
    values = dict(zip(L.weight_names() + L.bias_names(), p, strict=True))
    W = [[[values[name] for name in row] for row in grid] for grid in L.weights]
    B = [[values[name] for name in names] for names in L.biases]
    return W, B


def _slow_forward(net: Network, p: list[float]) -> tuple[float, tuple[float, ...]]:
    L = net.layout
    W, B = _layers(net, p)
    acts = [ACTIVATIONS[a] for a in net.activations]
    outs = list(net.inputs)
    for l in range(L.depth):
        nets = [sum(w * o for w, o in zip(row, outs)) + b for row, b in zip(W[l], B[l])]
        outs = softmax(nets) if acts[l].name == "softmax" else [acts[l].f(v) for v in nets]
    loss = LOSSES[net.loss]
    return sum(loss.error(t, o) for t, o in zip(net.targets, outs)), tuple(outs)


def slow_updates(net: Network, p: list[float], updates: int, eta: float, through_updated: bool = False,
                 done: int = 0) -> None:
    """``updates`` steps of gradient descent on the flat parameters ``p``, in place, with lists."""
    L = net.layout
    acts = [ACTIVATIONS[a] for a in net.activations]
    loss = LOSSES[net.loss]
    W, B = _layers(net, p)
    x, y = list(net.inputs), list(net.targets)
    for n in range(updates):
        nets, outs = [], [x]
        for l in range(L.depth):
            prev, f = outs[-1], acts[l].f
            v = [sum(w * o for w, o in zip(row, prev)) + b for row, b in zip(W[l], B[l])]
            nets.append(v)
            outs.append(softmax(v) if acts[l].name == "softmax" else [f(u) for u in v])
        if not all(math.isfinite(o) for o in outs[-1]):
            raise Diverged(done + n)
        out, slope = outs[-1], acts[-1].slope
        if acts[-1].name == "softmax":
            deltas = [o * sum(y) - t for t, o in zip(y, out)]
        else:
            deltas = [loss.slope(t, o) * slope(v, o) for t, o, v in zip(y, out, nets[-1])]
        for l in range(L.depth - 1, -1, -1):
            prev = outs[l]
            updated = [[w - eta * d * o for w, o in zip(row, prev)] for row, d in zip(W[l], deltas)]
            if net.train_biases:
                for b in dict.fromkeys(L.biases[l]):
                    fed = [d for d, name in zip(deltas, L.biases[l]) if name == b]
                    new = B[l][L.biases[l].index(b)] - eta * sum(fed)
                    B[l] = [new if name == b else old for name, old in zip(L.biases[l], B[l])]
            if l > 0:
                through = updated if through_updated else W[l]
                slope = acts[l - 1].slope
                deltas = [sum(through[k][r] * deltas[k] for k in range(len(deltas)))
                          * slope(nets[l - 1][r], prev[r]) for r in range(len(prev))]
            W[l] = updated
        if not all(math.isfinite(w) for grid in W for row in grid for w in row):
            raise Diverged(done + n + 1)
    values = {name: W[l][r][s] for l, grid in enumerate(L.weights) for r, row in enumerate(grid)
              for s, name in enumerate(row)}
    values |= {name: B[l][r] for l, names in enumerate(L.biases) for r, name in enumerate(names)}
    p[:] = [values[name] for name in L.weight_names() + L.bias_names()]


# ---------------------------------------------------------------------------------------------
# Runs


@dataclass(frozen=True)
class Trained:
    updates: int
    learning_rate: float
    initial_error: float
    error: float  # after all the updates
    previous_error: float  # after one update fewer
    outputs: tuple[float, ...]
    network: Network  # with the trained weights and biases


def train(net: Network, updates: int, *, learning_rate: float | None = None,
          backprop_through_updated: bool = False) -> Trained:
    """``updates`` steps of gradient descent on the lesson's sample.

    ``backprop_through_updated`` repeats a known slip (see ``tutor.network.run``).
    """
    loop = make_loop(net, learning_rate, backprop_through_updated)
    p = loop.params()
    initial, _ = loop.evaluate(p)
    previous = initial
    done = 0
    for point in sorted({max(updates - 1, 0), updates}):
        while done < point:
            n = min(MAX_CHUNK * 50, point - done)
            loop.step(p, n, done)
            done += n
        if point == updates - 1:
            previous, _ = loop.evaluate(p)
    error, outputs = loop.evaluate(p)
    if not math.isfinite(error):
        raise Diverged(updates)
    return Trained(updates, loop.eta, initial, error, previous if updates else error, outputs, loop.network(p))


@dataclass(frozen=True)
class Point:
    """The state after ``update`` updates."""

    update: int
    error: float
    outputs: tuple[float, ...]
    params: tuple[float, ...]


def checkpoints(total: int, every: int | None = None) -> list[int]:
    """0, 1, 10, 100, … and the last; with ``every``, each multiple of it as well."""
    points = {0, total}
    k = 1
    while k < total:
        points.add(k)
        k *= 10
    if every:
        points.update(range(every, total, every))
    return sorted(points)


def curve_points(total: int, count: int = 120) -> list[int]:
    """Where to sample the error for the loss curve: evenly spaced over the run."""
    return sorted({round(total * k / count) for k in range(count + 1)})


def history(loop: Loop, total: int, points: list[int], *, until: float | None = None,
            progress: Callable[[int], None] | None = None) -> Iterator[Point]:
    """The state at each of ``points`` (and at the update where the error first falls below
    ``until``, where the run then stops). ``progress`` hears the update count as it grows."""
    p = loop.params()
    done = 0
    for point in sorted(set(points) | {total}):
        before = list(p)
        start = done
        while done < point:
            n = min(MAX_CHUNK, point - done)
            loop.step(p, n, done)
            done += n
            if progress:
                progress(done)
        error, outputs = loop.evaluate(p)
        if until is not None and error < until and point > 0:
            # step again one update at a time from the previous point to find the first one below
            p[:], done = before, start
            while True:
                error, outputs = loop.evaluate(p)
                if error < until:
                    yield Point(done, error, outputs, tuple(p))
                    return
                loop.step(p, 1, done)
                done += 1
        if until is not None and error < until:
            yield Point(done, error, outputs, tuple(p))
            return
        yield Point(done, error, outputs, tuple(p))


@dataclass
class Run:
    """A training run as `train` shows it: checkpoints, the loss curve, where it stopped and why."""

    total: int
    rows: list[Point]  # the checkpoint table
    curve: list[tuple[int, float]]
    first: Point
    last: Point
    previous_error: float | None  # after total − 1 updates, when the run got there
    stopped: str | None = None  # "until" or "interrupted"

    @classmethod
    def at_start(cls, loop: Loop, total: int) -> Run:
        """A run that has not made an update yet."""
        p = loop.params()
        error, outputs = loop.evaluate(p)
        point = Point(0, error, outputs, tuple(p))
        return cls(total, [point], [(0, error)], point, point, None)

    def trained(self, loop: Loop) -> Trained:
        previous = self.previous_error if self.previous_error is not None else self.last.error
        return Trained(self.last.update, loop.eta, self.first.error, self.last.error, previous,
                       self.last.outputs, loop.network(list(self.last.params)))


def run_schedule(loop: Loop, total: int, *, every: int | None = None, until: float | None = None,
                 record_every: int | None = None, record: Callable[[Point], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> Run:
    """Train for ``total`` updates, keeping the checkpoints and a bounded loss curve.

    ``record`` hears the state every ``record_every`` updates (the --csv history), streamed:
    nothing grows with the number of updates.  Ctrl-C stops the run at the last state reached.
    """
    table = set(checkpoints(total, every))
    curve = set(curve_points(total))
    records = set(range(0, total + 1, record_every)) | {total} if record and record_every else set()
    wanted = sorted(table | curve | records | {max(total - 1, 0)})
    run = Run(total, [], [], first=None, last=None, previous_error=None)  # type: ignore[arg-type]
    try:
        for point in history(loop, total, wanted, until=until, progress=progress):
            if run.first is None:
                run.first = point
            run.last = point
            if point.update in table:
                run.rows.append(point)
            if point.update in curve:
                run.curve.append((point.update, point.error))
            if point.update == total - 1:
                run.previous_error = point.error
            if point.update in records and record is not None:
                record(point)
    except KeyboardInterrupt:
        run.stopped = "interrupted"
    if run.last is None:  # interrupted before anything: the starting state
        run = Run.at_start(loop, total)
        run.stopped = "interrupted"
    if until is not None and run.stopped is None and run.last.error < until:
        run.stopped = "until"
    if run.stopped and (not run.rows or run.rows[-1].update != run.last.update):
        run.rows.append(run.last)
        run.curve.append((run.last.update, run.last.error))
    return run


# ---------------------------------------------------------------------------------------------
# What a lesson's source claims


@dataclass(frozen=True)
class ClaimCheck:
    """What a lesson's source claims after some updates, set beside what the engine computes."""

    claim: Claim
    trained: Trained
    error_right: bool  # the claimed error agrees with the error after claim.updates updates
    error_one_short: bool  # … with the error after one update fewer
    outputs_right: bool
    published: Trained  # the same run with the slip backprop_through_updated
    published_outputs: bool  # the slip reproduces the claimed outputs
    published_error: bool  # … and the claimed error


def check_claims(lesson: Lesson, trained: Trained) -> list[ClaimCheck]:
    """The lesson's claims about this many updates at its own learning rate, checked."""
    checks = []
    for claim in lesson.claims:
        if claim.updates != trained.updates or trained.learning_rate != lesson.network.learning_rate:
            continue
        published = train(lesson.network, claim.updates, backprop_through_updated=True)
        error = parse_number(claim.error)
        outputs = [parse_number(o) for o in claim.outputs]

        def same(values: tuple[float, ...], outputs: list = outputs) -> bool:
            return all(agrees(o, Decimal(v)) for o, v in zip(outputs, values, strict=True))

        checks.append(ClaimCheck(
            claim, trained,
            error_right=agrees(error, Decimal(trained.error)),
            error_one_short=agrees(error, Decimal(trained.previous_error)),
            outputs_right=same(trained.outputs),
            published=published,
            published_outputs=same(published.outputs),
            published_error=agrees(error, Decimal(published.error))))
    return checks


def published_figures(lesson: Lesson, trained: Trained) -> list[tuple[str, str, float, str, bool]]:
    """Each of the lesson's published figures beside the recipe that reproduces it (--as-published):
    (figure, as printed, value reproduced, how, whether they agree at the printed digits)."""
    figures = []
    for claim in lesson.claims:
        if claim.updates != trained.updates:
            continue
        right = train(lesson.network, claim.updates)
        printed = parse_number(claim.error)
        figures.append((f"error after {claim.updates:,} updates", claim.error, right.previous_error,
                        f"the right rule, measured one update short (after {claim.updates - 1:,})",
                        agrees(printed, Decimal(right.previous_error))))
        for o, text, value in zip(lesson.network.layout.neurons[-1], claim.outputs, trained.outputs):
            figures.append((f"out_{o} after {claim.updates:,} updates", text, value, "the earlier rule",
                            agrees(parse_number(text), Decimal(value))))
    return figures
