"""The network drawn as text: every neuron with the connections that feed it.

Each neuron of a layer gets a fan-in: one row per incoming connection (``i1 ── w1 = 0.15``)
and one for its bias, joined into an arrow to the neuron with its net input, output and, for
outputs, its target.  The rows follow the weights' numbering, so the picture itself says which
weight feeds which neuron.  Values not computed yet show as ``?``.
"""

from __future__ import annotations

from backprop_tutor.network import Network

NUMBERING = {
    "by-receiver": "weights numbered by the neuron they feed: {first} feed {neuron}",
    "by-sender": "weights numbered by the neuron they leave: {first} leave {neuron}",
}


def _v(value: float | None) -> str:
    return "?" if value is None else f"{value:.9g}"


def lines(net: Network, known: dict[str, float]) -> list[str]:
    """The picture, one string per row; ``known`` holds the values to show (given and computed)."""
    L = net.layout
    shape = "-".join(map(str, L.sizes))
    first_neuron = L.neurons[1][0]
    if L.numbering == "by-receiver":
        first = ", ".join(L.weights[0][0])
    else:
        first = ", ".join(L.weights[0][r][0] for r in range(L.sizes[1]))
        first_neuron = L.neurons[0][0]
    bias = "one bias per layer, shared" if L.bias_mode == "per-layer" else "one bias per neuron"
    trained = ", trained" if net.train_biases else ", not trained"
    out = [f"Network {shape}: {bias}{trained}.",
           NUMBERING[L.numbering].format(first=first, neuron=first_neuron).capitalize() + ".", ""]
    tag = "@1" if net.extra else ""  # several samples: the picture shows the first

    def value(name: str) -> str:
        return _v(known.get(name + tag) if name + tag in known else known.get(name))

    if net.extra:
        out.append(f"{len(net.samples)} samples; the values shown are those of sample 1.")
    out.append("  inputs   " + "    ".join(f"{i} = {value(i)}" for i in L.neurons[0]))
    for l in range(1, L.depth + 1):
        out.append("")
        kind = "output layer" if l == L.depth else ("hidden layer" if L.depth == 2 else f"hidden layer {l}")
        out.append(f"  {kind} ({net.activations[l - 1]})")
        for r, j in enumerate(L.neurons[l]):
            feeds = []
            for s, x in enumerate(L.neurons[l - 1]):
                w = L.weights[l - 1][r][s]
                label = f"{w} = {_v(known.get(w))}"
                if f"{w}+" in known:
                    label += f" → {_v(known[w + '+'])}"
                feeds.append((f"{x} ── ", label))
            b = L.biases[l - 1][r]
            blabel = f"{b} = {_v(known.get(b))}"
            if f"{b}+" in known:
                blabel += f" → {_v(known[b + '+'])}"
            feeds.append(("", blabel))
            width = max(len(a) + len(b) for a, b in feeds)
            arrow = (len(feeds) - 1) // 2
            at = f"{j}   net {value(f'net_{j}')}   out {value(f'out_{j}')}"
            if l == L.depth:
                at += f"   target {value(f'target_{j}')}"
            for k, (src, label) in enumerate(feeds):
                text = f"{src}{label} " + "─" * (width - len(src + label))
                if k == arrow:
                    corner = "┬" if k == 0 else ("┴" if k == len(feeds) - 1 else "┼")
                    out.append(f"    {text}─{corner}──▶ {at}")
                else:
                    corner = "┐" if k == 0 else ("┘" if k == len(feeds) - 1 else "┤")
                    out.append(f"    {text}─{corner}")
    return out
