"""The matrix view: every entry is the scalar quantity it is labelled with, and equals an independent
NumPy forward pass with central finite differences; vectors and matrices typed to `check` are judged
entry by entry, and a transposed matrix or swapped rows are named."""

import dataclasses
import json

import numpy as np
import pytest

from backprop_tutor.checking import Session
from backprop_tutor.lesson import bundled_names, load
from backprop_tutor.matrixview import BadArray, find, matrices, parse_array
from backprop_tutor.names import NUMBERINGS
from backprop_tutor.network import Network, run


def numbered(net: Network, numbering: str) -> Network:
    return dataclasses.replace(net, layout=dataclasses.replace(net.layout, numbering=numbering))


CASES = [(name, numbering) for name in bundled_names() for numbering in NUMBERINGS]


def oracle(net: Network):
    """The lesson in NumPy, written from the weights' connections alone: z, a, and a function of the
    weights and of a nudge to one z that gives E_total, for finite differences."""
    L = net.layout
    x = np.array([s[0] for s in net.samples], dtype=float).T
    y = np.array([s[1] for s in net.samples], dtype=float).T

    def forward(weights, nudge=None):
        a, zs, outs = x, [], [x]
        for l in range(L.depth):
            W = np.zeros((L.sizes[l + 1], L.sizes[l]))
            for name, value in weights.items():
                k, r, s = L.connection(name)
                if k == l:
                    W[r, s] = value
            b = np.array([[net.biases[n]] for n in L.biases[l]])
            z = W @ a + b
            if nudge is not None and nudge[0] == l:
                z = z.copy()
                z[nudge[1], nudge[2]] += nudge[3]
            act = net.activations[l]
            if act == "logistic":
                a = 1 / (1 + np.exp(-z))
            elif act == "tanh":
                a = np.tanh(z)
            elif act == "relu":
                a = np.maximum(z, 0)
            elif act == "softmax":
                a = np.exp(z) / np.exp(z).sum(axis=0)
            else:
                a = z
            zs.append(z)
            outs.append(a)
        if net.loss == "cross-entropy":
            e = np.where(y > 0, -y * np.log(np.where(a > 0, a, 1)), 0).sum()
        elif net.loss == "binary-cross-entropy":
            e = -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum()
        else:
            e = (0.5 * (y - a) ** 2).sum()
        return zs, outs, e / len(net.samples) if net.batch == "mean" and net.extra else e

    return forward


H = 1e-6


@pytest.mark.parametrize(("name", "numbering"), CASES)
def test_every_entry_is_its_labelled_quantity_and_the_oracles_value(name, numbering):
    net = numbered(load(name).network, numbering)
    trace = run(net)
    found = matrices(net, trace)
    forward = oracle(net)
    zs, outs, _ = forward(net.weights)
    checked = 0
    for m in found:
        rows, cols = m.shape
        for r in range(rows):
            for c in range(cols):
                label, value = m.labels[r][c], m.values[r][c]
                if not m.given:
                    assert value == float(trace[label]), (m.key, label)
                l = m.key[-1] if m.key[-1].isdigit() else None
                if m.key.startswith("z"):
                    assert value == pytest.approx(zs[int(l) - 1][r, c], rel=1e-12, abs=1e-15)
                elif m.key.startswith("a"):
                    assert value == pytest.approx(outs[int(l)][r, c], rel=1e-12, abs=1e-15)
                elif m.key == "x":
                    assert value == outs[0][r, c]
                elif m.key.startswith("W") and not m.key.endswith("+"):
                    assert (int(l) - 1, r, c) == net.layout.connection(label) and value == net.weights[label]
                elif m.key.startswith("dE/dW"):  # a central finite difference of E_total
                    w = label[len("dE_total/d"):]
                    up = forward(net.weights | {w: net.weights[w] + H})[2]
                    down = forward(net.weights | {w: net.weights[w] - H})[2]
                    assert value == pytest.approx((up - down) / (2 * H), rel=1e-5, abs=1e-9), label
                elif m.key.startswith("delta"):  # ∂E_total/∂net, by nudging that one net input
                    up = forward(net.weights, (int(l) - 1, r, c, H))[2]
                    down = forward(net.weights, (int(l) - 1, r, c, -H))[2]
                    # a sample's δ is of its own error; the batch's mean error moves by δ / n
                    n = len(net.samples) if net.batch == "mean" and net.extra else 1
                    assert value == pytest.approx(n * (up - down) / (2 * H), rel=1e-5, abs=1e-9), label
                elif m.key.endswith("+"):
                    w = label[:-1]
                    assert value == pytest.approx(net.weights[w] - net.learning_rate * float(trace[f"dE_total/d{w}"]))
                checked += 1
    assert checked >= 2 * net.layout.weight_count + 3 * sum(net.layout.sizes[1:])


def test_the_numberings_move_only_the_labels():
    post = load("post").network
    W1 = {n: find(matrices(numbered(post, n), run(numbered(post, n))), "W1").labels for n in NUMBERINGS}
    assert W1["by-receiver"] == (("w1", "w2"), ("w3", "w4"))
    assert W1["by-sender"] == (("w1", "w3"), ("w2", "w4"))
    grads = find(matrices(post, run(post)), "dE/dW2")
    assert grads.labels == (("dE_total/dw5", "dE_total/dw6"), ("dE_total/dw7", "dE_total/dw8"))
    # the post's printed numbers, an oracle that is not the engine
    assert [f"{v:.9f}" for v in grads.values[0]] == ["0.082167041", "0.082667628"]
    assert [f"{v:.8f}" for v in find(matrices(post, run(post)), "W2+").values[0]] == ["0.35891648", "0.40866619"]


def test_explain_matrix_draws_the_post(cli):
    result = cli("explain", "--matrix", "dE/dW2")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "∂E/∂W² (2×2): the gradients of the weights into o1, o2\n"
        "  ∂E/∂W² = δ² (a¹)ᵀ\n"
        "  ⎡ ∂E/∂w5 = 0.0821670406    ∂E/∂w6 = 0.0826676278  ⎤\n"
        "  ⎣ ∂E/∂w7 = -0.0226025405   ∂E/∂w8 = -0.0227402422 ⎦\n")
    result = cli("explain", "--matrix", "delta_h", "--lesson", "xor")
    assert result.exit_code == 0 and "δ_h1@4 = " in result.output and "one column per sample" in result.output
    result = cli("explain", "--matrix", "W9")
    assert result.exit_code == 2 and "no matrix 'W9'" in result.output


@pytest.mark.parametrize(("text", "shape"), [
    ("0.1, 0.2", (1, 2)), ("[0.1, 0.2]", (1, 2)), ("[[0.1], [0.2]]", (2, 1)), ("0.1 0.2; 0.3 0.4", (2, 2)),
    ("[0.1, 0.2; 0.3, 0.4]", (2, 2)), ("[[1,2,3],[4,5,6]]", (2, 3)), ("0.1;0.2", (2, 1))])
def test_the_array_reader(text, shape):
    rows = parse_array(text)
    assert (len(rows), len(rows[0])) == shape


@pytest.mark.parametrize("text", ["[0.1, 0.2", "[[0.1, 0.2], [0.3]]", "[[0.1, [0.2]]]", "0.1, x", ";", "[[0.1]] ]",
                                  "0.1, nan", "[]", "1, 2" * 1000])
def test_the_array_reader_refuses_in_one_line(text):
    with pytest.raises(BadArray):
        parse_array(text)


def check(cli, *args):
    result = cli("check", *args)
    return result.exit_code, result.output


def test_check_a_vector_and_a_matrix(cli):
    code, out = check(cli, "delta_o", "0.1385, -0.0381")
    assert code == 0 and out.startswith("✓ right: δ², all 2 entries"), out
    code, out = check(cli, "dE/dW2", "[[0.08217, 0.08267], [-0.02260, -0.02274]]")
    assert code == 0, out
    code, out = check(cli, "dE/dW2", "[[0.08217, 0.08267], [-0.02260, -0.0300]]")
    assert code == 1 and "1 of the 4 entries of ∂E/∂W² are not right" in out
    assert "✗ row 2, column 2: ∂E_total/∂w8 = -0.0300" in out and "-0.0227" not in out  # never the answer
    code, out = check(cli, "W2", "0.3589 0.4087; 0.5113 0.56137")  # W2 in check: after the update, as w5
    assert code == 0 and "W²⁺" in out, out


def test_check_names_a_transposed_matrix_and_swapped_rows(cli):
    code, out = check(cli, "dE/dW1", "0.000438568, 0.000497713; 0.000877135 0.000995425")
    assert code == 1 and "this is ∂E/∂W¹ transposed" in out, out
    code, out = check(cli, "dE/dW2", "[[-0.02260, -0.02274], [0.08217, 0.08267]]")
    assert code == 1 and "row 1 holds the values of row 2" in out and "row 2 holds the values of row 1" in out
    # 3×2 typed for the 2×3 W² of tanh-relu: the shape says it is transposed
    session = Session(load("tanh-relu"))
    grads = find(matrices(session.lesson.network, session.trace), "dE/dW2")
    flipped = "; ".join(" ".join(f"{grads.values[r][c]:.9g}" for r in range(2)) for c in range(3))
    code, out = check(cli, "dE/dW2", flipped, "--lesson", "tanh-relu")
    assert code == 1 and "you typed 3×2, ∂E/∂W² is 2×3: the entries are right, but transposed" in out, out


def test_check_array_bad_input_and_json(cli):
    for args in (["dE/dW2", "[[0.0822, 0.0827]]"], ["dE/dW2", "[[0.1, 0.2], [0.3"], ["W7", "0.1, 0.2"],
                 ["x", "0.05, 0.1"], ["delta_o", "0.1, 0.2, 0.3"], ["delta_o", "\x1b[31m, 0.1"]):
        code, out = check(cli, *args)
        assert code == 2 and len(out.strip().splitlines()) == 1 and "\x1b" not in out, (args, out)
    code, out = check(cli, "delta_o", "0.1385, -0.0381", "--json")
    data = json.loads(out)
    assert code == 0 and data["matrix"] == "delta2" and [e["quantity"] for e in data["entries"]] == [
        "delta_o1", "delta_o2"]
    code, out = check(cli, "w5", "0,3589")  # one decimal comma is still one number
    assert code == 0 and "w5⁺" in out


def test_the_entries_confirmed_in_a_matrix_count_as_done(cli, tmp_path):
    assert check(cli, "delta_o", "0.1385, -0.0381")[0] == 0
    saved = json.loads((tmp_path / "home" / "progress" / "post.json").read_text(encoding="utf-8"))
    assert {"delta_o1", "delta_o2"} <= set(json.dumps(saved).replace('"', " ").split())


def test_the_readme_shows_explain_matrix_as_it_is(cli):
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "$ backprop-tutor explain --matrix dE/dW2\n" + cli("explain", "--matrix", "dE/dW2").output in readme


def test_start_matrix_asks_each_matrix_and_judges_it(cli, tmp_path):
    answers = "0.3775 0.3925\nskip\n[[0.6]]\n\x1b[31m\n[[1.1059], [1.2249]]\nquit\n"
    result = cli("start", "--matrix", input=answers)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("Matrix ") == 4 and "Matrix 1 of 10: z¹ (2×1)" in out
    assert "✓ right: z¹, all 2 entries" in out
    assert "out_h1 = 0.593269992" in out  # skip shows it
    assert "z² is 2×1, you typed 1×1" in out and "\x1b" not in out
    assert "✓ right: z², all 2 entries" in out and "Matrix 4 of 10: a²" in out
    saved = (tmp_path / "home" / "progress" / "post.json").read_text(encoding="utf-8")
    assert "net_h1" in saved and "net_o2" in saved and "out_h1" not in saved  # a skipped matrix is not done
    result = cli("start", "--matrix", input="")  # the end of input stops, as in the walk
    assert result.exit_code == 0
