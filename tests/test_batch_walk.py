"""The mini-batch by hand (lessons/post-batch.toml): two samples worked in full, their gradients averaged, one
update. Every value the walk asks for is computed here, from the definitions, with nothing from the engine:
the walk is driven end to end in a terminal (pexpect, the installed program) and each prompt answered."""

import math
import os
import sys
from pathlib import Path

import pexpect
import pytest

from backprop_tutor.checking import Session
from backprop_tutor.lesson import load
from backprop_tutor.walk import lesson_steps

W = dict(zip([f"w{k}" for k in range(1, 9)], [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]))
B1, B2, ETA = 0.35, 0.60, 0.5
SAMPLES = [((0.05, 0.10), (0.01, 0.99)), ((0.10, 0.05), (0.99, 0.01))]


def sigma(x):
    return 1 / (1 + math.exp(-x))


def forward(w, x):
    h = [sigma(w["w1"] * x[0] + w["w2"] * x[1] + B1), sigma(w["w3"] * x[0] + w["w4"] * x[1] + B1)]
    nets = [w["w1"] * x[0] + w["w2"] * x[1] + B1, w["w3"] * x[0] + w["w4"] * x[1] + B1,
            w["w5"] * h[0] + w["w6"] * h[1] + B2, w["w7"] * h[0] + w["w8"] * h[1] + B2]
    return nets, h, [sigma(nets[2]), sigma(nets[3])]


def one_sample(k, x, y):
    """Every value of sample k the walk asks for, under the name its prompt shows."""
    nets, h, o = forward(W, x)
    v = {}
    for name, n, out in (("h1", nets[0], h[0]), ("h2", nets[1], h[1]), ("o1", nets[2], o[0]), ("o2", nets[3], o[1])):
        v[f"net_{name}"], v[f"out_{name}"] = n, out
    v["E_o1"], v["E_o2"] = (y[0] - o[0]) ** 2 / 2, (y[1] - o[1]) ** 2 / 2
    v["E_total"] = v["E_o1"] + v["E_o2"]
    delta = {}
    for j, (o_j, t) in enumerate(zip(o, y), 1):
        v[f"∂E_total/∂out_o{j}"] = o_j - t
        v[f"∂out_o{j}/∂net_o{j}"] = o_j * (1 - o_j)
        delta[f"o{j}"] = v[f"δ_o{j}"] = (o_j - t) * o_j * (1 - o_j)
    into = {"o1": ("w5", "w6"), "o2": ("w7", "w8")}
    for j, ws in into.items():
        for w, src in zip(ws, ("h1", "h2")):
            v[f"∂net_{j}/∂{w}"] = v[f"out_{src}"]
            v[f"∂E_total/∂{w}"] = delta[j] * v[f"out_{src}"]
    for r, hj in enumerate(("h1", "h2")):
        for j, ws in into.items():
            v[f"∂net_{j}/∂out_{hj}"] = W[ws[r]]
            v[f"∂E_{j}/∂out_{hj}"] = delta[j] * W[ws[r]]
        v[f"∂E_total/∂out_{hj}"] = v[f"∂E_o1/∂out_{hj}"] + v[f"∂E_o2/∂out_{hj}"]
        v[f"∂out_{hj}/∂net_{hj}"] = h[r] * (1 - h[r])
        delta[hj] = v[f"δ_{hj}"] = v[f"∂E_total/∂out_{hj}"] * h[r] * (1 - h[r])
        for s, w in enumerate(("w1", "w2") if hj == "h1" else ("w3", "w4")):
            v[f"∂net_{hj}/∂{w}"] = x[s]
            v[f"∂E_total/∂{w}"] = delta[hj] * x[s]
    return {f"{name}@{k}": value for name, value in v.items()}


def expected():
    """Both samples' values, then the batch's: means of the errors and gradients, one update, the error after."""
    v = {}
    for k, (x, y) in enumerate(SAMPLES, 1):
        v |= one_sample(k, x, y)
    v["E_total"] = (v["E_total@1"] + v["E_total@2"]) / 2
    after = {}
    for w in W:
        v[f"∂E_total/∂{w}"] = (v[f"∂E_total/∂{w}@1"] + v[f"∂E_total/∂{w}@2"]) / 2
        after[w] = v[f"{w}⁺"] = W[w] - ETA * v[f"∂E_total/∂{w}"]
    errors = []
    for x, y in SAMPLES:
        _, _, o = forward(after, x)
        errors.append(sum((t - out) ** 2 / 2 for t, out in zip(y, o)))
    v["E_total⁺"] = sum(errors) / 2
    return v


def test_the_lesson_asks_every_sample_and_averages():
    lesson = load("post-batch")
    net = lesson.network
    assert net.batch == "mean" and lesson.by_hand == "all" and len(net.samples) == 2
    assert net.samples[0] == ((0.05, 0.10), (0.01, 0.99))  # the post's own sample first
    session = Session(lesson)
    asked = [s.qid for s in lesson_steps(session) if s.asked]
    assert {q.split("@")[1] for q in asked if "@" in q} == {"1", "2"}
    want = expected()
    assert len(asked) == len(want)
    for qid in asked:
        assert session.catalogue[qid].symbol in want, qid
    assert "mean" in session.catalogue["dE_total/dw5"].meaning and '"mean"' in session.catalogue["E_total"].meaning


def test_mean_and_sum_take_the_same_direction_at_half_and_full_size():
    mean = Session(load("post-batch")).trace
    import dataclasses

    summed = Session(dataclasses.replace(load("post-batch"), network=dataclasses.replace(
        load("post-batch").network, batch="sum"))).trace
    want = expected()
    for w in W:
        assert mean[f"dE_total/d{w}"] == pytest.approx(want[f"∂E_total/∂{w}"], rel=1e-12)
        assert summed[f"dE_total/d{w}"] == pytest.approx(2 * want[f"∂E_total/∂{w}"], rel=1e-12)


def test_training_the_batch_lowers_the_mean_error(cli):
    import json

    data = json.loads(cli("train", "--lesson", "post-batch", "-n", "1", "--json").stdout)
    want = expected()
    assert data["initial_error"] == pytest.approx(want["E_total"], rel=1e-12)
    assert data["error"] == pytest.approx(want["E_total⁺"], rel=1e-12)


def command():
    script = Path(sys.executable).with_name("backprop-tutor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "backprop_tutor"]


def test_the_mini_batch_walk_end_to_end_in_a_terminal(tmp_path):
    want = expected()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"TERM": "xterm-256color", "BACKPROP_TUTOR_HOME": str(tmp_path)})
    cmd = command()
    child = pexpect.spawn(cmd[0], [*cmd[1:], "--no-color", "start", "--lesson", "post-batch"], env=environment,
                          dimensions=(40, 200), encoding="utf-8", timeout=30)
    asked, batch_text = [], ""
    while True:
        # a prompt: the step's name and " = " at the end of what is shown (after "You have: …", or the
        # story's line that names δ)
        found = child.expect([r"\r\n([^\s=\x1b]+) = $", "You have worked through"])
        if found == 1:
            break
        name = child.match[1]
        if name == "∂E_total/∂w5":
            batch_text = child.before
        assert name in want, (name, child.before[-300:])
        asked.append(name)
        child.sendline(f"{want[name]:.12g}")
        child.expect(["✓ right", "not right", "give more digits"])
        assert child.after == "✓ right", (name, want[name], child.before[-400:])
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before
    assert sorted(asked) == sorted(want)  # every value, each once
    assert asked.index("E_total") > max(asked.index(f"∂E_total/∂{w}@2") for w in W)  # both samples first
    assert asked.index("w5⁺") > asked.index("∂E_total/∂w5") and asked[-1] == "E_total⁺"
    assert "the mean of" in batch_text and 'batch = "mean"' in batch_text  # the walk says which
