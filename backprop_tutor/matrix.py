"""The update with NumPy matrices: fastest where the network is wide or the batch has many samples.

Each column of a matrix is one sample of the batch.  With ⊙ the element-wise product, the four
equations of backpropagation, for the layers l = L (the outputs), L − 1, …, 1:

  (1) δᴸ = ∂E/∂outᴸ ⊙ f′(netᴸ)           — with softmax and cross-entropy, and with logistic outputs
                                          and binary cross-entropy: out − target
  (2) δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ⊙ f′(netˡ)
  (3) ∂E/∂bˡ = δˡ, summed over the samples  — a bias the layer shares sums its neurons too
  (4) ∂E/∂Wˡ = δˡ (outˡ⁻¹)ᵀ

Each layer keeps its weights and biases as one matrix [W | b], and each layer's outputs get a row
of ones below them, so that net = [W | b]·[out; 1] is one product (the bias is the weight of a
constant input 1, as the post draws it), and (3) and (4) are one product too.  The δ of the
outputs is multiplied by the step size η once: every δ and gradient below it is linear in it, so
they all come out as η·δ and η·∂E/∂W, and the update is a subtraction.  The buffers are made once;
NumPy writes into them (``out=``), which keeps small matrices quick.

NumPy is imported here only, and this module only when ``backprop_tutor.training`` chooses it.
"""

from __future__ import annotations

import numpy as np

from backprop_tutor.network import Network
from backprop_tutor.updates import Updates


def _squash(name: str, net: np.ndarray, out: np.ndarray) -> None:
    """out = f(net), in place."""
    if name == "logistic":  # 1 / (1 + e^−net)
        np.negative(net, out=out)
        np.exp(out, out=out)
        out += 1.0
        np.reciprocal(out, out=out)
    elif name == "tanh":
        np.tanh(net, out=out)
    elif name == "relu":
        np.maximum(net, 0.0, out=out)
    elif name == "identity":
        np.copyto(out, net)
    elif name == "softmax":  # e^net / Σ e^net, per sample, shifted by the largest so exp cannot overflow
        np.subtract(net, net.max(axis=0), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=0)
    else:
        raise ValueError(f"no NumPy form for the activation {name}")


def _times_slope(name: str, delta: np.ndarray, net: np.ndarray, out: np.ndarray, slope: np.ndarray) -> None:
    """delta ⊙= f′(net), in place; ``slope`` is scratch space."""
    if name == "logistic":  # out(1 − out)
        np.subtract(1.0, out, out=slope)
        slope *= out
        delta *= slope
    elif name == "tanh":  # 1 − out²
        np.multiply(out, out, out=slope)
        np.subtract(1.0, slope, out=slope)
        delta *= slope
    elif name == "relu":  # 1 where net > 0, else 0
        np.greater(net, 0.0, out=slope)
        delta *= slope
    elif name == "identity":
        pass
    else:
        raise ValueError(f"no NumPy slope for the activation {name}")


class _Pass:
    """One batch's samples as matrices, and the buffers of a forward and backward pass over them."""

    def __init__(self, net: Network, samples: list[int], step: float):
        sizes, m = net.layout.sizes, len(samples)
        x = np.array([net.samples[k][0] for k in samples], dtype=float).T
        self.targets = np.array([net.samples[k][1] for k in samples], dtype=float).T
        self.target_sums = self.targets.sum(axis=0)  # Σ target per sample (softmax deltas)
        self.step = step
        # outs[l]: layer l's outputs with a row of ones below (but the output layer), as columns
        self.outs = [np.vstack([x, np.ones((1, m))])]
        self.outs += [np.ones((n + 1, m)) for n in sizes[1:-1]] + [np.empty((sizes[-1], m))]
        self.values = [o[:n] for o, n in zip(self.outs, sizes)]  # the outputs without the ones
        self.nets = [np.empty((n, m)) for n in sizes]
        self.deltas = [np.empty((n, m)) for n in sizes]
        self.slopes = [np.empty((n, m)) for n in sizes]


class MatrixLoop(Updates):
    """The updates as NumPy matrices, a batch at a time; the flat parameters are read into each
    layer's [W | b] at the start of ``step`` and written back at its end."""

    def __init__(self, net: Network, learning_rate: float | None = None, batch_size: int | None = None,
                 through_updated: bool = False):
        super().__init__(net, learning_rate, batch_size, through_updated)
        L = net.layout
        index = {name: k for k, name in enumerate(self.names)}
        # where each entry of each layer's [W | b] is in the flat parameters (layer 0 has none)
        self.where = [np.zeros((0, 0), dtype=int)] + [
            np.array([[index[w] for w in row] + [index[b]] for row, b in zip(L.weights[l], L.biases[l])])
            for l in range(L.depth)]
        self.W = [np.empty(w.shape) for w in self.where]
        self.grads = [np.empty(w.shape) for w in self.where]
        self.weights_only = [w[:, :-1] for w in self.W]  # views: W without its bias column, for (2)
        self.shared_bias = [len(set(b)) == 1 < len(b) for b in ((), *L.biases)]
        self.acts = ("", *net.activations)
        self.passes = [_Pass(net, b, s) for b, s in zip(self.batches, self.steps)]
        every = list(range(len(net.samples)))
        self.everything = self.passes[0] if len(self.batches) == 1 else _Pass(net, every, self.eta)

    def _load(self, p: list[float]) -> None:
        flat = np.array(p, dtype=float)
        for W, where in zip(self.W[1:], self.where[1:]):
            np.take(flat, where, out=W)

    def _save(self, p: list[float]) -> None:
        flat = np.empty(len(p))
        for W, where in zip(self.W[1:], self.where[1:]):
            flat[where] = W  # a shared bias is written once per neuron, the same value each time
        p[:] = flat.tolist()

    def _forward(self, b: _Pass) -> None:
        for l in range(1, len(self.W)):
            np.dot(self.W[l], b.outs[l - 1], out=b.nets[l])
            _squash(self.acts[l], b.nets[l], b.values[l])

    def _update(self, b: _Pass) -> None:
        """One step of gradient descent on this batch."""
        depth = len(self.W) - 1
        self._forward(b)
        delta, out = b.deltas[depth], b.values[depth]
        if self.acts[depth] == "softmax":  # (1) with cross-entropy: out·Σtarget − target
            np.multiply(out, b.target_sums, out=delta)
            delta -= b.targets
        elif self.net.loss == "binary-cross-entropy":  # (1) with logistic outputs: out − target
            np.subtract(out, b.targets, out=delta)
        else:  # (1) with the half squared error: (out − target) ⊙ f′(net)
            np.subtract(out, b.targets, out=delta)
            _times_slope(self.acts[depth], delta, b.nets[depth], out, b.slopes[depth])
        delta *= b.step  # from here on every δ is η·δ
        for l in range(depth, 0, -1):
            np.dot(b.deltas[l], b.outs[l - 1].T, out=self.grads[l])  # (3) and (4), times η
            if l > 1 and not self.through_updated:
                self._back(b, l)
            self._step(l)
            if l > 1 and self.through_updated:  # the slip: back through the weights just updated
                self._back(b, l)

    def _back(self, b: _Pass, l: int) -> None:
        """(2): the deltas of layer l − 1 from those of layer l."""
        np.dot(self.weights_only[l].T, b.deltas[l], out=b.deltas[l - 1])
        _times_slope(self.acts[l - 1], b.deltas[l - 1], b.nets[l - 1], b.values[l - 1], b.slopes[l - 1])

    def _step(self, l: int) -> None:
        W, grad = self.W[l], self.grads[l]
        if not self.net.train_biases:
            self.weights_only[l] -= grad[:, :-1]
            return
        if self.shared_bias[l]:  # one bias for the whole layer: its gradient is the sum over the neurons
            grad[:, -1] = grad[:, -1].sum()
        W -= grad

    def step(self, p: list[float], n: int, done: int = 0) -> None:
        self._load(p)
        with np.errstate(all="ignore"):  # an overflow is an infinite number; training reports it
            for u in range(done, done + n):
                self._update(self.passes[u % len(self.passes)])
        self._save(p)

    def evaluate(self, p: list[float]) -> tuple[float, tuple[float, ...]]:
        self._load(p)
        b = self.everything
        with np.errstate(all="ignore"):
            self._forward(b)
            out, targets = b.values[-1], b.targets
            if self.net.loss == "cross-entropy":  # Σ −target·ln(out), a target of 0 adding nothing
                errors = np.where(targets > 0, -targets * np.log(out), 0.0)
            elif self.net.loss == "binary-cross-entropy":  # −(t·ln out + (1 − t)·ln(1 − out)), 0·ln adding nothing
                errors = (np.where(targets > 0, -targets * np.log(out), 0.0)
                          + np.where(targets < 1, -(1 - targets) * np.log1p(-out), 0.0))
            else:
                errors = 0.5 * (targets - out) ** 2
            error = float(errors.sum()) * self.error_scale
        return error, tuple(out.T.ravel().tolist())
