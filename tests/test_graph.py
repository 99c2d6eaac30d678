"""The graph view: every node's value and accumulated gradient equal the engine's, out_h1's two shares are
the engine's two paths, and the drawings of the post at a forward step and at the hidden-layer sum."""

import pytest

from backprop_tutor.graph import backward, build, shares
from backprop_tutor.lesson import bundled_names, load, randomized
from backprop_tutor.network import run, sample_key

ONE_SAMPLE = [name for name in bundled_names() if not load(name).network.extra]
NETWORKS = [load(name).network for name in ONE_SAMPLE] + [
    randomized(load(name), seed).network for name, seed in [("post", 21), ("deep", 22), ("tanh-relu", 23),
                                                            ("softmax-ce", 24), ("post-bce", 25)]]


@pytest.mark.parametrize("net", NETWORKS, ids=lambda n: f"{n.layout.sizes}-{'-'.join(n.activations)}")
def test_every_node_and_gradient_is_the_engines(net):
    trace = run(net)
    nodes = build(net)
    order = backward(nodes)
    assert order[0] == len(nodes) - 1 and nodes[-1].name == "E_total"
    position = {n: k for k, n in enumerate(order)}
    compared = 0
    for k, node in enumerate(nodes):
        assert all(p < k for p in node.parents)  # topological: each node after what it is made of
        assert all(position[k] > position[c] for c, _ in node.shares)  # reached after every node using it
        if node.engine:
            assert node.value == pytest.approx(float(trace[node.engine]), rel=1e-12, abs=1e-300), node.name
        if node.gradient_of in trace:
            assert node.grad == pytest.approx(float(trace[node.gradient_of]), rel=1e-12, abs=1e-15), node.name
            compared += 1
        if node.name.startswith("E_"):
            assert node.grad == 1
    L = net.layout
    assert compared >= L.weight_count * 2 + 2 * sum(L.sizes[1:])  # weights, products, nets and outputs
    for name, share in shares(nodes).items():  # dE_o1/dout_h1 and the like: one share each
        assert share == pytest.approx(float(trace[name]), rel=1e-12, abs=1e-15), name
    assert len(shares(nodes)) == sum(a * b for a, b in zip(L.sizes[1:-1], L.sizes[2:]))


def test_each_sample_of_a_batch_is_the_engines_sample():
    net = load("xor").network
    trace = run(net)
    for k in range(1, len(net.samples) + 1):
        nodes = build(net.sample(k))
        backward(nodes)
        compared = 0
        for node in nodes:
            if node.engine and not node.leaf:
                assert node.value == pytest.approx(float(trace[sample_key(node.engine, k)]), rel=1e-12), node.name
            if node.gradient_of and sample_key(node.gradient_of, k) in trace:
                assert node.grad == pytest.approx(float(trace[sample_key(node.gradient_of, k)]), rel=1e-12,
                                                  abs=1e-15), (k, node.name)
                compared += 1
        assert compared >= 6 + 9 + 6  # weights, biases, products, nets and outputs


def test_graph_of_one_sample(cli):
    result = cli("graph", "--lesson", "xor", "--step", "delta_h1@3")
    assert result.exit_code == 0 and result.output.startswith("Sample 3 of 4")
    assert "net_h1: grad += " in result.output and "◀ this step" in result.output


def test_the_shared_biases_of_the_post_get_both_shares():
    """b1 feeds h1 and h2: its gradient adds two shares; the reference figures, not the engine's."""
    nodes = build(load("post").network)
    backward(nodes)
    b = {node.name: node for node in nodes}
    assert len(b["b1"].shares) == 2 and len(b["out_h1"].shares) == 2
    assert b["b1"].grad == pytest.approx(0.0187256093947041, rel=1e-13)
    assert b["b2"].grad == pytest.approx(0.100400325112001, rel=1e-13)
    assert b["out_h1"].grad == pytest.approx(0.0363503063931447, rel=1e-13)  # the post: 0.036350306


FORWARD_STEP = """\
Forward pass, in topological order (each node after the nodes it is made of):
   1  i1                   0.05  (input)
   2  i2                    0.1  (input)
   3  w1                   0.15  (weight)
   4  w2                    0.2  (weight)
   5  w3                   0.25  (weight)
   6  w4                    0.3  (weight)
   7  w5                    0.4  (weight)
   8  w6                   0.45  (weight)
   9  w7                    0.5  (weight)
  10  w8                   0.55  (weight)
  11  b1                   0.35  (bias)
  12  b2                    0.6  (bias)
  13  w1·i1              0.0075  = w1 × i1
  14  w2·i2                0.02  = w2 × i2
  15  net_h1             0.3775  = w1·i1 + w2·i2 + b1   ◀ this step
  … 16 more nodes, up to E_total
"""

HIDDEN_SUM = """\
Forward pass, in topological order (each node after the nodes it is made of):
   1  i1                   0.05  (input)
   2  i2                    0.1  (input)
   3  w1                   0.15  (weight)
   4  w2                    0.2  (weight)
   5  w3                   0.25  (weight)
   6  w4                    0.3  (weight)
   7  w5                    0.4  (weight)
   8  w6                   0.45  (weight)
   9  w7                    0.5  (weight)
  10  w8                   0.55  (weight)
  11  b1                   0.35  (bias)
  12  b2                    0.6  (bias)
  13  w1·i1              0.0075  = w1 × i1
  14  w2·i2                0.02  = w2 × i2
  15  net_h1             0.3775  = w1·i1 + w2·i2 + b1
  16  out_h1        0.593269992  = σ(net_h1)
  17  w3·i1              0.0125  = w3 × i1
  18  w4·i2                0.03  = w4 × i2
  19  net_h2             0.3925  = w3·i1 + w4·i2 + b1
  20  out_h2        0.596884378  = σ(net_h2)
  21  w5·out_h1     0.237307997  = w5 × out_h1
  22  w6·out_h2      0.26859797  = w6 × out_h2
  23  net_o1         1.10590597  = w5·out_h1 + w6·out_h2 + b2
  24  out_o1         0.75136507  = σ(net_o1)
  25  w7·out_h1     0.296634996  = w7 × out_h1
  26  w8·out_h2     0.328286408  = w8 × out_h2
  27  net_o2          1.2249214  = w7·out_h1 + w8·out_h2 + b2
  28  out_o2        0.772928465  = σ(net_o2)
  29  E_o1          0.274811083  = ½(0.01 − out_o1)²
  30  E_o2         0.0235600256  = ½(0.99 − out_o2)²
  31  E_total       0.298371109  = E_o1 + E_o2

Backward pass, in reverse topological order: each node is reached only after
every node that uses it has added its share, grad += its grad × local gradient:
  E_total: grad = 1
  E_o2: grad += 1 × 1 (E_total)  = 1
  E_o1: grad += 1 × 1 (E_total)  = 1
  out_o2: grad += 1 × -0.217071535 (E_o2)  = -0.217071535
  net_o2: grad += -0.217071535 × 0.175510053 (out_o2)  = -0.0380982365
  w8·out_h2: grad += -0.0380982365 × 1 (net_o2)  = -0.0380982365
  w7·out_h1: grad += -0.0380982365 × 1 (net_o2)  = -0.0380982365
  out_o1: grad += 1 × 0.74136507 (E_o1)  = 0.74136507
  net_o1: grad += 0.74136507 × 0.186815602 (out_o1)  = 0.138498562
  w6·out_h2: grad += 0.138498562 × 1 (net_o1)  = 0.138498562
  w5·out_h1: grad += 0.138498562 × 1 (net_o1)  = 0.138498562
  out_h2: used by 2 nodes; grad is the sum of their shares:
    += -0.0380982365 × 0.55 (w8·out_h2) = -0.0209540301  dE_o2/dout_h2
    += 0.138498562 × 0.45 (w6·out_h2) = 0.0623243527  dE_o1/dout_h2
    = 0.0413703226
  net_h2: grad += 0.0413703226 × 0.240613417 (out_h2)  = 0.00995425471
  w4·i2: grad += 0.00995425471 × 1 (net_h2)  = 0.00995425471
  w3·i1: grad += 0.00995425471 × 1 (net_h2)  = 0.00995425471
  out_h1: used by 2 nodes; grad is the sum of their shares:
    += -0.0380982365 × 0.5 (w7·out_h1) = -0.0190491183  dE_o2/dout_h1
    += 0.138498562 × 0.4 (w5·out_h1) = 0.0553994247  dE_o1/dout_h1
    = 0.0363503064   ◀ this step
  … and on to the leaves
"""


def test_the_post_at_a_forward_step(cli):
    result = cli("graph", "--step", "net_h1")
    assert result.exit_code == 0 and result.output == FORWARD_STEP


def test_the_post_at_the_hidden_layer_sum(cli):
    result = cli("graph", "--step", "dE/dout_h1")
    assert result.exit_code == 0 and result.output == HIDDEN_SUM


def test_graph_bad_input(cli):
    for args in (["--lesson", "xor", "--sample", "5"], ["--sample", "2"], ["--lesson", "xor", "--sample", "0"],
                 ["--step", "w5+"], ["--step", "nope"], ["--lesson", "nope"],
                 ["--step", "\x1b[2J"], ["--step", "[/oops]"], ["--step", ""]):
        result = cli("graph", *args)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, (args, result.output)
        assert "\x1b" not in result.output and "Traceback" not in result.output
    result = cli("graph")
    assert result.exit_code == 0 and result.output.count("◀") == 0 and "w1: grad +=" in result.output
