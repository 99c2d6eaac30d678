"""What every training loop shares, and the same update written as plain loops over lists.

A training loop works on a *flat list of parameters*: the weights in the order w1, w2, …, then
the biases b1, ….  Its samples come in *batches*: one update per batch, with the gradients of the
batch's samples summed (``net.batch == "sum"``) or averaged (``"mean"``).  The full batch, the
default, is one batch of every sample; a lesson with one sample has one batch of one.

``Updates`` holds that bookkeeping; ``backprop_tutor.compiled`` (the loop compiled for the
network's shape) and ``backprop_tutor.matrix`` (NumPy matrices) do the updates.  ``plain_updates``
and ``plain_error`` below are the same update and error written as plain loops, straight from the
definitions: the fallback of the compiled loop where it meets an overflow, and an oracle in the tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from backprop_tutor.network import ACTIVATIONS, LOSSES, Network, softmax


class Updates(ABC):
    """Gradient descent on one network's samples, on a flat list of parameters."""

    def __init__(self, net: Network, learning_rate: float | None = None, batch_size: int | None = None,
                 through_updated: bool = False):
        self.net = net
        self.eta = net.learning_rate if learning_rate is None else learning_rate
        self.through_updated = through_updated  # the slip: back-propagate through updated weights
        self.names = net.layout.weight_names() + net.layout.bias_names()
        n = len(net.samples)
        size = n if batch_size is None else min(batch_size, n)
        self.batches = [list(range(k, min(k + size, n))) for k in range(0, n, size)]
        # the step of each batch: η, times 1/len(batch) when the gradients are averaged
        self.steps = [self.eta / len(b) if net.batch == "mean" else self.eta for b in self.batches]
        self.error_scale = 1 / n if net.batch == "mean" else 1.0  # E_total: the samples' sum or mean

    @property
    def updates_per_epoch(self) -> int:
        return len(self.batches)

    def params(self, net: Network | None = None) -> list[float]:
        net = net or self.net
        values = net.weights | net.biases
        return [values[n] for n in self.names]

    def network(self, p: list[float]) -> Network:
        return self.net.with_values(**dict(zip(self.names, p, strict=True)))

    @abstractmethod
    def step(self, p: list[float], n: int, done: int = 0) -> None:
        """``n`` updates, in place; ``done`` updates came before them (it picks the next batch)."""

    @abstractmethod
    def evaluate(self, p: list[float]) -> tuple[float, tuple[float, ...]]:
        """E_total over every sample, and the outputs, sample by sample, for these parameters."""


# ---------------------------------------------------------------------------------------------
# The same, as plain loops


def _forward(net: Network, values: dict[str, float], x: tuple[float, ...]) -> tuple[list, list]:
    """Every layer's net inputs and outputs (outs[0] are the inputs; nets[0] is empty)."""
    L = net.layout
    nets: list[list[float]] = [[]]
    outs = [list(x)]
    for l in range(1, L.depth + 1):
        act = ACTIVATIONS[net.activations[l - 1]]
        v = [sum(values[w] * o for w, o in zip(row, outs[-1])) + values[b]
             for row, b in zip(L.weights[l - 1], L.biases[l - 1])]
        nets.append(v)
        outs.append(softmax(v) if act.name == "softmax" else [act.f(u) for u in v])
    return nets, outs


def plain_error(loop: Updates, p: list[float]) -> tuple[float, tuple[float, ...]]:
    """E_total (each sample's Σ_o E_o, summed or averaged over the samples) and the outputs."""
    net, loss = loop.net, LOSSES[loop.net.loss]
    values = dict(zip(loop.names, p, strict=True))
    total, outputs = 0.0, []
    for x, y in net.samples:
        out = _forward(net, values, x)[1][-1]
        total += sum(loss.error(t, o) for t, o in zip(y, out))
        outputs.extend(out)
    return total * loop.error_scale, tuple(outputs)


def plain_updates(loop: Updates, p: list[float], count: int, done: int = 0) -> None:
    """``count`` updates of the flat parameters ``p``, in place, one sample at a time."""
    net, L = loop.net, loop.net.layout
    acts = [ACTIVATIONS[a] for a in net.activations]
    loss = LOSSES[net.loss]
    values = dict(zip(loop.names, p, strict=True))
    trained = L.weight_names() + (L.bias_names() if net.train_biases else [])
    for u in range(done, done + count):
        batch = u % len(loop.batches)
        step = loop.steps[batch]
        grads = dict.fromkeys(trained, 0.0)
        for k in loop.batches[batch]:
            x, y = net.samples[k]
            nets, outs = _forward(net, values, x)
            if acts[-1].name == "softmax":  # with cross-entropy: out·Σtarget − target
                deltas = [o * sum(y) - t for t, o in zip(y, outs[-1])]
            elif loss.matched == acts[-1].name:  # the slope cancels the loss's denominator: out − target
                deltas = [o - t for t, o in zip(y, outs[-1])]
            else:
                deltas = [loss.slope(t, o) * acts[-1].slope(v, o) for t, o, v in zip(y, outs[-1], nets[-1])]
            for l in range(L.depth, 0, -1):  # the weights into layer l
                for r, row in enumerate(L.weights[l - 1]):
                    for s, w in enumerate(row):
                        grads[w] += deltas[r] * outs[l - 1][s]
                    if net.train_biases:
                        grads[L.biases[l - 1][r]] += deltas[r]
                if l > 1:
                    grid, slope = L.weights[l - 1], acts[l - 2].slope
                    if loop.through_updated:  # the slip (one sample only): back through the updated weights
                        through = {w: values[w] - step * grads[w] for row in grid for w in row}
                    else:
                        through = values
                    deltas = [sum(through[grid[j][r]] * deltas[j] for j in range(len(deltas)))
                              * slope(nets[l - 1][r], outs[l - 1][r]) for r in range(L.sizes[l - 1])]
        for name in trained:
            values[name] -= step * grads[name]
    p[:] = [values[n] for n in loop.names]
