"""The update loop compiled for one network's shape: fastest where the network is small.

``loop_source`` writes the forward pass, the deltas and the updates out as straight-line Python —
one local variable per weight, no lists, no calls but ``exp``/``tanh`` — and ``CompiledLoop``
compiles it once.  The source is written in one pass from the shape, by the small templates of
``_Writer`` and the activation and loss templates of ``backprop_tutor.network``'s registries,
with indices for names: no text of a lesson file or of the user reaches it (the lesson's numbers
are passed in as arguments), so the same shape always compiles the same source, and the source
is refused if it holds any character those templates cannot write.

Variables: ``p3`` is the fourth parameter (``Updates.names``); ``x0`` an input and ``y0`` a target;
``n1_0``, ``o1_0`` and ``d1_0`` the net input, output and δ of neuron 0 of layer 1; ``g1_0`` is
η·δ (one sample) and ``a3`` the gradient of ``p3`` summed over a batch (several samples).
"""

from __future__ import annotations

import math
import re

from backprop_tutor.network import ACTIVATIONS, LOSSES, Network, bce, nlog
from backprop_tutor.updates import Updates, plain_error, plain_updates

ALLOWED = re.compile(r"[\w\s.,:=+\-*/()<>\[\]%]*")  # every character the templates can write


class CompiledLoop(Updates):
    """The updates as the straight-line Python ``loop_source`` writes for this shape, compiled once."""

    def __init__(self, net: Network, learning_rate: float | None = None, batch_size: int | None = None,
                 through_updated: bool = False):
        super().__init__(net, learning_rate, batch_size, through_updated)
        self.source = loop_source(net, through_updated)
        namespace: dict[str, object] = {"exp": math.exp, "tanh": math.tanh, "nlog": nlog, "bce": bce}
        exec(compile(self.source, "<backprop_tutor.compiled loop>", "exec"), namespace)
        rows = [(*x, *y) for x, y in net.samples]  # one sample: its inputs, then its targets
        self._step, self._forward = namespace["make"](  # type: ignore[operator]
            rows, [[rows[k] for k in b] for b in self.batches], self.steps, self.error_scale)

    def step(self, p: list[float], n: int, done: int = 0) -> None:
        start = list(p)
        try:
            self._step(p, n, done)
        except OverflowError:  # a logistic of a net input below −709: the plain loop's is stable
            p[:] = start
            plain_updates(self, p, n, done)

    def evaluate(self, p: list[float]) -> tuple[float, tuple[float, ...]]:
        try:
            return self._forward(p)
        except OverflowError:
            return plain_error(self, p)


def loop_source(net: Network, through_updated: bool = False) -> str:
    """Python source of ``make(samples, batches, steps, error_scale) -> (step, forward)``."""
    source = _Writer(net, through_updated).source()
    if not ALLOWED.fullmatch(source):
        raise AssertionError("unexpected characters in the compiled training loop")
    return source


def _indent(lines: list[str], depth: int) -> list[str]:
    return [" " * (4 * depth) + line for line in lines]


class _Writer:
    """Writes the loop for one network's shape, part by part."""

    def __init__(self, net: Network, through_updated: bool):
        self.L = L = net.layout
        self.acts = [ACTIVATIONS[a] for a in net.activations]
        self.loss = LOSSES[net.loss]
        self.train_biases = net.train_biases
        self.through_updated = through_updated
        self.one_sample = len(net.samples) == 1  # then every update sees the same sample
        if through_updated and not self.one_sample:
            raise ValueError("the slip of back-propagating through updated weights is modelled for one sample")
        names = L.weight_names() + L.bias_names()
        self.p = {name: f"p{k}" for k, name in enumerate(names)}  # each parameter's variable
        self.a = {name: f"a{k}" for k, name in enumerate(names)}  # … and its gradient over a batch
        self.params = ", ".join(self.p.values())
        self.trained = [n for n in names if n.startswith("w") or self.train_biases]
        self.sample = ", ".join([*(f"x{s}" for s in range(L.sizes[0])), *(f"y{k}" for k in range(L.sizes[-1]))])
        self.softmax = self.acts[-1].name == "softmax"

    def out(self, l: int, s: int) -> str:
        """What neuron s of layer l passes on: an input, or an output."""
        return f"x{s}" if l == 0 else f"o{l}_{s}"

    def forward(self) -> list[str]:
        """Every layer's net inputs and outputs."""
        L, lines = self.L, []
        for l in range(1, L.depth + 1):
            act = self.acts[l - 1]
            for r in range(L.sizes[l]):
                terms = [f"{self.p[L.weights[l - 1][r][s]]} * {self.out(l - 1, s)}" for s in range(L.sizes[l - 1])]
                lines.append(f"n{l}_{r} = {' + '.join(terms)} + {self.p[L.biases[l - 1][r]]}")
                if act.name != "softmax":
                    lines.append(f"o{l}_{r} = {act.code.format(net=f'n{l}_{r}')}")
            if act.name == "softmax":  # shifted by the largest net input, so exp cannot overflow
                nets = [f"n{l}_{r}" for r in range(L.sizes[l])]
                top = f"max({', '.join(nets)})" if len(nets) > 1 else nets[0]  # max() needs two or more
                lines.append(f"top = {top}")
                lines += [f"e{l}_{r} = exp({n} - top)" for r, n in enumerate(nets)]
                lines.append(f"expsum = {' + '.join(f'e{l}_{r}' for r in range(L.sizes[l]))}")
                lines += [f"o{l}_{r} = e{l}_{r} / expsum" for r in range(L.sizes[l])]
        return lines

    def error(self) -> str:
        """This sample's Σ_o E_o."""
        outs = range(self.L.sizes[-1])
        return " + ".join(self.loss.code.format(target=f"y{k}", out=f"o{self.L.depth}_{k}") for k in outs)

    def target_sum(self) -> list[str]:
        """Σ target, which the deltas of a softmax output need."""
        return ["ysum = " + " + ".join(f"y{k}" for k in range(self.L.sizes[-1]))] if self.softmax else []

    def output_deltas(self) -> list[str]:
        depth, lines = self.L.depth, []
        for k in range(self.L.sizes[-1]):
            o = f"o{depth}_{k}"
            if self.softmax:  # with cross-entropy: Σ over the outputs gives out·Σtarget − target
                lines.append(f"d{depth}_{k} = {o} * ysum - y{k}")
            elif self.loss.matched == self.acts[-1].name:  # the activation's slope cancels the loss's: out − target
                lines.append(f"d{depth}_{k} = {o} - y{k}")
            else:
                loss = self.loss.slope_code.format(target=f"y{k}", out=o)
                slope = self.acts[-1].slope_code.format(net=f"n{depth}_{k}", out=o)
                lines.append(f"d{depth}_{k} = ({loss}) * ({slope})")
        return lines

    def hidden_deltas(self, l: int) -> list[str]:
        """The deltas of layer l, from those of layer l + 1 through the weights between them."""
        L, lines = self.L, []
        for r in range(L.sizes[l]):
            paths = " + ".join(f"{self.p[L.weights[l][k][r]]} * d{l + 1}_{k}" for k in range(L.sizes[l + 1]))
            slope = self.acts[l - 1].slope_code.format(net=f"n{l}_{r}", out=f"o{l}_{r}")
            lines.append(f"d{l}_{r} = ({paths}) * ({slope})")
        return lines

    def bias_feeds(self, l: int) -> dict[str, list[int]]:
        """Each bias into layer l, with the neurons it feeds (all of them when the layer shares one)."""
        feeds: dict[str, list[int]] = {}
        for r, b in enumerate(self.L.biases[l - 1]):
            feeds.setdefault(b, []).append(r)
        return feeds

    def updates(self, l: int) -> list[str]:
        """One sample: the weights (and trained biases) into layer l, each stepped by η·δ·input."""
        L, lines = self.L, []
        for r in range(L.sizes[l]):
            lines.append(f"g{l}_{r} = rate * d{l}_{r}")  # η·δ, shared by every weight into this neuron
            lines += [f"{self.p[L.weights[l - 1][r][s]]} -= g{l}_{r} * {self.out(l - 1, s)}"
                      for s in range(L.sizes[l - 1])]
        if self.train_biases:
            for b, fed in self.bias_feeds(l).items():
                lines.append(f"{self.p[b]} -= {' + '.join(f'g{l}_{r}' for r in fed)}")
        return lines

    def accumulate(self, l: int) -> list[str]:
        """Several samples: this sample's gradient of each parameter into layer l, added to the batch's."""
        L, lines = self.L, []
        for r in range(L.sizes[l]):
            lines += [f"{self.a[L.weights[l - 1][r][s]]} += d{l}_{r} * {self.out(l - 1, s)}"
                      for s in range(L.sizes[l - 1])]
        if self.train_biases:
            for b, fed in self.bias_feeds(l).items():
                lines.append(f"{self.a[b]} += {' + '.join(f'd{l}_{r}' for r in fed)}")
        return lines

    def one_sample_update(self) -> list[str]:
        """Backward pass and update of one sample; the right rule takes every delta from the weights
        before the update, the slip updates each layer before going back through it."""
        depth, lines = self.L.depth, self.output_deltas()
        if self.through_updated:
            for l in range(depth, 0, -1):
                lines += self.updates(l) + (self.hidden_deltas(l - 1) if l > 1 else [])
            return lines
        for l in range(depth - 1, 0, -1):
            lines += self.hidden_deltas(l)
        for l in range(depth, 0, -1):
            lines += self.updates(l)
        return lines

    def batch_sample(self) -> list[str]:
        """Forward and backward pass of one sample of a batch, its gradients added to the batch's."""
        lines = self.target_sum() + self.forward() + self.output_deltas()
        for l in range(self.L.depth - 1, 0, -1):
            lines += self.hidden_deltas(l)
        for l in range(self.L.depth, 0, -1):
            lines += self.accumulate(l)
        return lines

    def step(self) -> list[str]:
        head = ["def step(p, count, start, exp=exp, tanh=tanh):", f"    {self.params} = p"]
        if self.one_sample:
            body = [
                f"{self.sample} = samples[0]",
                "rate = steps[0]",
                *self.target_sum(),
                "for _ in range(count):",
                *_indent(self.forward() + self.one_sample_update(), 1),
            ]
        else:
            body = [
                "nb = len(batches)",
                "for u in range(start, start + count):",
                *_indent([f"{self.a[n]} = 0.0" for n in self.trained], 1),
                f"    for {self.sample} in batches[u % nb]:",
                *_indent(self.batch_sample(), 2),
                "    rate = steps[u % nb]",
                *_indent([f"{self.p[n]} -= rate * {self.a[n]}" for n in self.trained], 1),
            ]
        return head + _indent(body, 1) + [f"    p[:] = [{self.params}]"]

    def evaluation(self) -> list[str]:
        outs = ", ".join(f"o{self.L.depth}_{k}" for k in range(self.L.sizes[-1]))
        return [
            "def forward(p, exp=exp, tanh=tanh, nlog=nlog, bce=bce):",
            f"    {self.params} = p",
            "    error = 0.0",
            "    outs = []",
            f"    for {self.sample} in samples:",
            *_indent(self.forward(), 2),
            f"        error += {self.error()}",
            f"        outs += [{outs}]",
            "    return error * error_scale, tuple(outs)",
        ]

    def source(self) -> str:
        return "\n".join([
            "def make(samples, batches, steps, error_scale):",
            *_indent(self.step(), 1),
            "",
            *_indent(self.evaluation(), 1),
            "",
            "    return step, forward",
            "",
        ])
