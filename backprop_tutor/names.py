"""How the neurons, weights and biases of a network are named.

The post's 2-2-2 network fixes the scheme, and larger networks extend it:

* inputs are ``i1, i2, …``; outputs are ``o1, o2, …``;
* one hidden layer is ``h1, h2, …`` as in the post; with more hidden layers they are
  lettered in order ``h``, ``j``, ``k``, ``m``, ``n`` (``i`` is taken by the inputs, ``l``
  looks like a one), so a 2-3-3-1 network has i1 i2 → h1 h2 h3 → j1 j2 j3 → o1;
* weights are numbered ``w1, w2, …`` layer by layer from the inputs.  In the post's
  numbering ("by-receiver") a neuron's incoming weights are numbered together:
  w1 = i1→h1, w2 = i2→h1, w3 = i1→h2, w4 = i2→h2, w5 = h1→o1, w6 = h2→o1, w7 = h1→o2,
  w8 = h2→o2.  "by-sender" numbers a neuron's outgoing weights together instead
  (w2 = i1→h2, w3 = i2→h1): the column-wise labels some textbooks use;
* biases: "per-layer" (the post) gives one bias per layer, ``b1`` for the first hidden
  layer, ``b2`` for the next …; "per-neuron" numbers one bias per neuron in the same
  order as the neurons, b1 = h1, b2 = h2, b3 = o1, …
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

HIDDEN_LETTERS = "hjkmn"
NUMBERINGS = ("by-receiver", "by-sender")
BIAS_MODES = ("per-layer", "per-neuron")


@dataclass(frozen=True)
class Layout:
    """The names in a network of the given layer sizes (inputs first, outputs last)."""

    sizes: tuple[int, ...]
    numbering: str = "by-receiver"
    bias_mode: str = "per-layer"

    @property
    def depth(self) -> int:
        """Number of layers with weights (hidden layers + the output layer)."""
        return len(self.sizes) - 1

    @cached_property
    def neurons(self) -> tuple[tuple[str, ...], ...]:
        """neurons[l] are the names in layer l; layer 0 holds the inputs."""
        hidden = len(self.sizes) - 2
        if hidden > len(HIDDEN_LETTERS):
            raise ValueError(f"at most {len(HIDDEN_LETTERS)} hidden layers are supported")
        letters = ["i", *HIDDEN_LETTERS[:hidden], "o"]
        return tuple(
            tuple(f"{letter}{k + 1}" for k in range(size))
            for letter, size in zip(letters, self.sizes, strict=True)
        )

    @cached_property
    def weights(self) -> tuple[tuple[tuple[str, ...], ...], ...]:
        """weights[l][r][s]: the name of the weight into neuron r of layer l+1 from neuron s of layer l."""
        names: list[tuple[tuple[str, ...], ...]] = []
        n = 0
        for l in range(self.depth):
            senders, receivers = self.sizes[l], self.sizes[l + 1]
            grid = [[""] * senders for _ in range(receivers)]
            if self.numbering == "by-receiver":
                order = [(r, s) for r in range(receivers) for s in range(senders)]
            else:
                order = [(r, s) for s in range(senders) for r in range(receivers)]
            for r, s in order:
                n += 1
                grid[r][s] = f"w{n}"
            names.append(tuple(tuple(row) for row in grid))
        return tuple(names)

    @cached_property
    def weight_count(self) -> int:
        return sum(a * b for a, b in zip(self.sizes, self.sizes[1:]))

    @cached_property
    def biases(self) -> tuple[tuple[str, ...], ...]:
        """biases[l][r]: the name of the bias of neuron r in layer l+1 (shared names per layer)."""
        names: list[tuple[str, ...]] = []
        n = 0
        for l in range(self.depth):
            size = self.sizes[l + 1]
            if self.bias_mode == "per-layer":
                names.append((f"b{l + 1}",) * size)
            else:
                names.append(tuple(f"b{n + k + 1}" for k in range(size)))
                n += size
        return tuple(names)

    @cached_property
    def bias_count(self) -> int:
        return self.depth if self.bias_mode == "per-layer" else sum(self.sizes[1:])

    def bias_names(self) -> list[str]:
        """Every distinct bias name, in order."""
        return list(dict.fromkeys(name for layer in self.biases for name in layer))

    def weight_names(self) -> list[str]:
        return [f"w{n + 1}" for n in range(self.weight_count)]

    def connection(self, weight: str) -> tuple[int, int, int]:
        """(l, r, s) of a weight name: it feeds neuron r of layer l+1 from neuron s of layer l."""
        for l, grid in enumerate(self.weights):
            for r, row in enumerate(grid):
                for s, name in enumerate(row):
                    if name == weight:
                        return l, r, s
        raise KeyError(weight)
