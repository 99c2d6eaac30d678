"""The lesson as a computation graph, micrograd's way: every value a node (inputs, weights, each product
w·x, each sum, each activation, each error and E_total), with the local gradient of each edge.

The backward pass visits the nodes in reverse topological order: E_total first, and each node only after
every node that uses it, so that when a node is reached its gradient is complete.  Each node that uses
another adds its share to that node's gradient (``+=``): out_h1 feeds w5·out_h1 and w7·out_h1, and its
gradient is the sum of the two shares, the post's ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1.

Plain Python, no heavy import; the values are floats of the engine's own functions for σ and the loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backprop_tutor.errors import TutorError
from backprop_tutor.network import ACTIVATIONS, LOSSES, Network, path_name, softmax, softmax_slope

SIGN = {"logistic": "σ", "tanh": "tanh", "relu": "relu", "identity": "id"}


@dataclass
class Node:
    name: str  # i1, w5, w5·out_h1, net_o1, out_o1, E_o1, E_total
    operation: str  # how it is made from its parents, as shown
    parents: list[int]
    value: float
    local: list[float]  # ∂node/∂parent, one per parent
    engine: str | None = None  # the engine's quantity whose value this node is
    gradient_of: str | None = None  # the engine's quantity that is ∂E_total/∂node
    grad: float = 0.0
    shares: list[tuple[int, float]] = field(default_factory=list)  # (the node that added it, how much)
    leaf: bool = False


def build(net: Network) -> list[Node]:
    """The graph of one sample's forward pass, in topological order (each node after its parents)."""
    if net.extra:
        raise TutorError("the graph is drawn for one sample: this lesson has several (`graph --sample K`)")
    L = net.layout
    nodes: list[Node] = []
    index: dict[str, int] = {}

    def add(node: Node) -> int:
        nodes.append(node)
        index[node.name] = len(nodes) - 1
        return len(nodes) - 1

    for i, x in zip(L.neurons[0], net.inputs):
        add(Node(i, "input", [], float(x), [], leaf=True))
    for w in L.weight_names():
        add(Node(w, "weight", [], float(net.weights[w]), [], engine=w, gradient_of=f"dE_total/d{w}", leaf=True))
    for b in L.bias_names():
        add(Node(b, "bias", [], float(net.biases[b]), [], engine=b,
                 gradient_of=f"dE_total/d{b}" if net.train_biases else None, leaf=True))
    for l in range(1, L.depth + 1):
        act = net.activations[l - 1]
        for r, j in enumerate(L.neurons[l]):
            terms = []
            for s, src in enumerate(L.neurons[l - 1]):
                w = L.weights[l - 1][r][s]
                source = src if src.startswith("i") else f"out_{src}"
                wi, si = index[w], index[source]
                terms.append(add(Node(f"{w}·{source}", f"{w} × {source}", [wi, si], nodes[wi].value * nodes[si].value,
                                      [nodes[si].value, nodes[wi].value], gradient_of=f"delta_{j}")))
            bias = index[L.biases[l - 1][r]]
            parts = [*terms, bias]
            add(Node(f"net_{j}", " + ".join(nodes[p].name for p in parts), parts,
                     sum(nodes[p].value for p in parts), [1.0] * len(parts), engine=f"net_{j}",
                     gradient_of=f"delta_{j}"))
            if act != "softmax":
                f = ACTIVATIONS[act]
                net_value = nodes[index[f"net_{j}"]].value
                out = f.f(net_value)
                add(Node(f"out_{j}", f"{SIGN.get(act, act)}(net_{j})", [index[f"net_{j}"]], out,
                         [f.slope(net_value, out)], engine=f"out_{j}", gradient_of=f"dE_total/dout_{j}"))
        if act == "softmax":
            nets = [index[f"net_{j}"] for j in L.neurons[l]]
            outs = softmax([nodes[n].value for n in nets])
            for k, j in enumerate(L.neurons[l]):
                add(Node(f"out_{j}", f"softmax_{k + 1}({', '.join(nodes[n].name for n in nets)})", nets, outs[k],
                         [softmax_slope(outs, k, o) for o in range(len(nets))], engine=f"out_{j}",
                         gradient_of=f"dE_total/dout_{j}"))
    loss = LOSSES[net.loss]
    errors = []
    for o, t in zip(L.neurons[-1], net.targets):
        out = index[f"out_{o}"]
        shown = loss.formula.format(target=f"{float(t)!r}", out=f"out_{o}")
        errors.append(add(Node(f"E_{o}", shown, [out], loss.error(float(t), nodes[out].value),
                               [loss.slope(float(t), nodes[out].value)], engine=f"E_{o}")))
    add(Node("E_total", " + ".join(nodes[e].name for e in errors), errors, sum(nodes[e].value for e in errors),
             [1.0] * len(errors), engine="E_total"))
    return nodes


def backward(nodes: list[Node]) -> list[int]:
    """Every gradient, in reverse topological order; returns that order.  Inputs get no gradient."""
    for node in nodes:
        node.grad, node.shares = 0.0, []
    nodes[-1].grad = 1.0
    order = list(range(len(nodes) - 1, -1, -1))
    for n in order:
        node = nodes[n]
        for parent, local in zip(node.parents, node.local):
            if nodes[parent].operation == "input":
                continue
            share = node.grad * local
            nodes[parent].grad += share  # a node used twice gets a share from each use
            nodes[parent].shares.append((n, share))
    return [n for n in order if nodes[n].operation != "input"]


def _fmt(v: float) -> str:
    return f"{v:.9g}"


def forward_lines(nodes: list[Node], upto: int | None = None) -> list[str]:
    width = max(len(n.name) for n in nodes)
    lines = ["Forward pass, in topological order (each node after the nodes it is made of):"]
    for k, node in enumerate(nodes):
        if upto is not None and k > upto:
            lines.append(f"  … {len(nodes) - k} more nodes, up to E_total")
            break
        made = node.operation if not node.leaf else f"({node.operation})"
        mark = "   ◀ this step" if k == upto else ""
        lines.append(f"  {k + 1:>2}  {node.name:<{width}}  {_fmt(node.value):>14}  = {made}{mark}"
                     if not node.leaf else f"  {k + 1:>2}  {node.name:<{width}}  {_fmt(node.value):>14}  {made}")
    return lines


def backward_lines(nodes: list[Node], upto: int | None = None) -> list[str]:
    order = backward(nodes)
    names = {share: name for name, share in _share_names(nodes).items()}
    lines = ["Backward pass, in reverse topological order: each node is reached only after",
             "every node that uses it has added its share, grad += its grad × local gradient:"]
    for n in order:
        node = nodes[n]
        if node.name == "E_total":
            lines.append("  E_total: grad = 1")
            continue
        shares = node.shares
        parts = [f"{_fmt(nodes[c].grad)} × {_fmt(local)} ({nodes[c].name})"
                 for c, _ in shares for p, local in zip(nodes[c].parents, nodes[c].local) if p == n]
        if len(parts) == 1:
            lines.append(f"  {node.name}: grad += {parts[0]}  = {_fmt(node.grad)}")
        else:
            lines.append(f"  {node.name}: used by {len(parts)} nodes; grad is the sum of their shares:")
            for (c, share), part in zip(shares, parts):
                known = names.get((nodes[c].name, node.name))
                lines.append(f"    += {part} = {_fmt(share)}" + (f"  {known}" if known else ""))
            lines.append(f"    = {_fmt(node.grad)}")
        if n == upto:
            lines[-1] += "   ◀ this step"
            if n != order[-1]:
                lines.append("  … and on to the leaves")
            break
    return lines


def step_node(nodes: list[Node], qid: str) -> tuple[int, bool]:
    """The node a quantity of the trace belongs to, and whether it is a step of the backward pass."""
    by_name = {node.name: k for k, node in enumerate(nodes)}
    if qid in by_name and not nodes[by_name[qid]].leaf:
        return by_name[qid], False
    for k, node in enumerate(nodes):
        if node.gradient_of == qid and not node.name.count("·"):
            return k, True
    if qid.startswith("dE_") and "/dout_" in qid:  # a path's share, dE_o1/dout_h1: at the node it flows into
        return by_name["out_" + qid.split("/dout_", 1)[1]], True
    if qid.startswith("dout_") and "/dnet_" in qid:  # a local gradient: used where net gets its gradient
        return by_name["net_" + qid.split("/dnet_", 1)[1]], True
    if qid.startswith("dnet_") and "/d" in qid:  # ∂net/∂w or ∂net/∂out_h: where w or out_h gets its gradient
        target = qid.split("/d", 1)[1]
        return by_name.get(target, by_name.get(target.replace("out_", "out_"), 0)), True
    raise TutorError(f"'{qid}' is not a node or a gradient of the graph (the update is in `explain {qid}`)")


def draw(net: Network, qid: str | None) -> list[str]:
    nodes = build(net)
    if qid is None:
        return [*forward_lines(nodes), "", *backward_lines(nodes)]
    k, back = step_node(nodes, qid)
    if not back:
        return forward_lines(nodes, k)
    return [*forward_lines(nodes), "", *backward_lines(nodes, k)]


def _share_names(nodes: list[Node]) -> dict[str, tuple[str, str]]:
    """The engine's name of each share that a product node adds to a hidden output: {dE_o1/dout_h1:
    (w5·out_h1, out_h1)}."""
    found = {}
    for node in nodes:
        if "·out_" in node.name and node.gradient_of:
            via, hidden = node.gradient_of[len("delta_"):], node.name.split("·out_", 1)[1]
            found[path_name(via, hidden)] = (node.name, f"out_{hidden}")
    return found


def shares(nodes: list[Node]) -> dict[str, float]:
    """Each hidden output's shares by the engine's names (dE_o1/dout_h1 …), after ``backward``."""
    by_name = {node.name: k for k, node in enumerate(nodes)}
    return {name: share for name, (child, parent) in _share_names(nodes).items()
            for c, share in nodes[by_name[parent]].shares if c == by_name[child]}
