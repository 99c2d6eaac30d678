"""The two training loops, the compiled one and NumPy's matrices, give the same numbers as each other,
as the plain loop and as the engine's own update, on random networks of every kind the format allows;
E_total is the error the lesson defines, checked against a forward pass written here from the
definitions; and `train`'s options work whichever loop runs."""

import dataclasses
import json
import math
import random
import tracemalloc

import pytest

from backprop_tutor import training
from backprop_tutor.compiled import CompiledLoop
from backprop_tutor.matrix import MatrixLoop
from backprop_tutor.names import Layout
from backprop_tutor.network import Network, run
from backprop_tutor.updates import plain_updates

ACTIVATIONS = ["logistic", "tanh", "relu", "identity"]


def random_net(seed: int) -> Network:
    """A random network: 1–5 wide, 1–4 layers of weights, softmax with cross-entropy or the half squared
    error, any hidden activation, biases shared or per neuron, trained or not, 1–8 samples summed or
    averaged."""
    rng = random.Random(seed)
    shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(2, 5)))
    softmax = seed % 3 == 0
    hidden = tuple(rng.choice(ACTIVATIONS) for _ in shape[1:-1])
    layout = Layout(shape, rng.choice(["by-receiver", "by-sender"]), rng.choice(["per-layer", "per-neuron"]))

    def target() -> tuple[float, ...]:
        if softmax:  # one class is right
            right = rng.randrange(shape[-1])
            return tuple(float(k == right) for k in range(shape[-1]))
        return tuple(rng.uniform(0.05, 0.95) for _ in range(shape[-1]))

    samples = [(tuple(rng.uniform(-1, 1) for _ in range(shape[0])), target()) for _ in range(rng.choice([1, 2, 3, 8]))]
    weights = {w: rng.uniform(-1, 1) for w in layout.weight_names()}
    biases = {b: rng.uniform(-0.5, 0.5) for b in layout.bias_names()}
    output = "softmax" if softmax else rng.choice(["logistic", "tanh", "identity"])
    bce = seed % 3 == 1  # logistic outputs with binary cross-entropy
    loss = "cross-entropy" if softmax else "binary-cross-entropy" if bce else "half-squared-error"
    return Network(layout, weights, biases, (*hidden, "logistic" if bce else output), loss, samples[0][0],
                   samples[0][1], rng.choice([0.05, 0.2, 0.5]), rng.random() < 0.6, tuple(samples[1:]),
                   rng.choice(["sum", "mean"]))


def reference_error(net: Network, values: dict[str, float]) -> float:
    """E_total from the definitions: each sample's Σ_o E_o (½(target − out)², or −target·ln out), the
    samples summed or averaged."""
    f = {"logistic": lambda v: 1 / (1 + math.exp(-v)), "tanh": math.tanh, "relu": lambda v: max(v, 0.0),
         "identity": lambda v: v}
    L, errors = net.layout, []
    for x, y in net.samples:
        outs = list(x)
        for l in range(L.depth):
            nets = [sum(values[L.weights[l][r][s]] * outs[s] for s in range(len(outs))) + values[L.biases[l][r]]
                    for r in range(L.sizes[l + 1])]
            if net.activations[l] == "softmax":
                exps = [math.exp(v - max(nets)) for v in nets]
                outs = [e / sum(exps) for e in exps]
            else:
                outs = [f[net.activations[l]](v) for v in nets]
        if net.loss == "cross-entropy":
            errors.append(sum(-t * math.log(o) for t, o in zip(y, outs) if t))
        elif net.loss == "binary-cross-entropy":
            errors.append(sum(-t * math.log(o) - (1 - t) * math.log(1 - o) for t, o in zip(y, outs)))
        else:
            errors.append(sum(0.5 * (t - o) ** 2 for t, o in zip(y, outs)))
    return sum(errors) / (len(errors) if net.batch == "mean" else 1)


NETS = [random_net(seed) for seed in range(18)]
KINDS = [f"{'-'.join(map(str, n.layout.sizes))}/{n.activations[-1]}/{len(n.samples)}{n.batch}" for n in NETS]


def test_the_random_networks_cover_every_kind():
    assert {a for n in NETS for a in n.activations} == {*ACTIVATIONS, "softmax"}
    assert {n.batch for n in NETS if n.extra} == {"sum", "mean"} and any(not n.extra for n in NETS)
    assert {n.train_biases for n in NETS} == {True, False}
    assert {n.layout.bias_mode for n in NETS} == {"per-layer", "per-neuron"}
    assert any(n.layout.sizes[-1] == 1 and n.activations[-1] == "softmax" for n in NETS)
    assert {n.loss for n in NETS} == {"cross-entropy", "binary-cross-entropy", "half-squared-error"}


@pytest.mark.parametrize("net", NETS, ids=KINDS)
@pytest.mark.parametrize("batch_size", [None, 2])
def test_both_loops_and_the_plain_loop_agree_after_many_updates(net, batch_size):
    compiled, matrix = CompiledLoop(net, batch_size=batch_size), MatrixLoop(net, batch_size=batch_size)
    a, b, c = compiled.params(), compiled.params(), compiled.params()
    compiled.step(a, 37, 3)
    matrix.step(b, 37, 3)
    plain_updates(compiled, c, 37, 3)
    assert b == pytest.approx(a, rel=1e-12, abs=1e-14)
    assert c == pytest.approx(a, rel=1e-12, abs=1e-14)
    (ea, oa), (eb, ob) = compiled.evaluate(a), matrix.evaluate(b)
    assert eb == pytest.approx(ea, rel=1e-12, abs=1e-300) and ob == pytest.approx(oa, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("net", [n for n in NETS if not n.extra], ids=[k for k, n in zip(KINDS, NETS) if not n.extra])
def test_both_loops_take_the_published_slip_as_the_engine_does(net):
    trace = run(net, backprop_through_updated=True)
    loops = (CompiledLoop(net, through_updated=True), MatrixLoop(net, through_updated=True))
    for loop in loops:
        p = loop.params()
        loop.step(p, 1)
        for name, value in zip(loop.names, p):
            assert value == pytest.approx(trace.get(name + "+", trace[name]), rel=1e-12, abs=1e-15), name
    a, b, c = loops[0].params(), loops[0].params(), loops[0].params()
    loops[0].step(a, 30)
    loops[1].step(b, 30)
    plain_updates(loops[0], c, 30)
    assert b == pytest.approx(a, rel=1e-12, abs=1e-14) and c == pytest.approx(a, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("net", NETS, ids=KINDS)
def test_one_update_of_either_loop_is_the_engines_update(net):
    trace = run(net)
    for loop in (CompiledLoop(net), MatrixLoop(net)):
        p = loop.params()
        assert loop.evaluate(p)[0] == pytest.approx(trace["E_total"], rel=1e-12)
        loop.step(p, 1)
        for name, value in zip(loop.names, p):  # w⁺ and b⁺ (an untrained bias stays)
            assert value == pytest.approx(trace.get(name + "+", trace[name]), rel=1e-12, abs=1e-15), name
        assert loop.evaluate(p)[0] == pytest.approx(trace["E_total+"], rel=1e-12)


CROSS_ENTROPY = [n for n in NETS if n.loss == "cross-entropy" and n.extra]
BINARY = [n for n in NETS if n.loss == "binary-cross-entropy"]


@pytest.mark.parametrize("net", CROSS_ENTROPY + BINARY)
def test_multi_sample_cross_entropy_is_the_error_the_lesson_defines(net):
    for loop in (CompiledLoop(net), MatrixLoop(net)):
        p = loop.params()
        assert loop.evaluate(p)[0] == pytest.approx(reference_error(net, dict(zip(loop.names, p))), rel=1e-12)
        loop.step(p, 5)
        assert loop.evaluate(p)[0] == pytest.approx(reference_error(net, dict(zip(loop.names, p))), rel=1e-12)


def lesson_text(net: Network) -> str:
    def row(values):
        return "[" + ", ".join(repr(v) for v in values) + "]"

    return f"""title = "random"
description = "random"
[network]
layers = {list(net.layout.sizes)}
activation = {json.dumps(list(net.activations))}
loss = "{net.loss}"
weight_numbering = "{net.layout.numbering}"
bias_mode = "{net.layout.bias_mode}"
weights = {row(net.weights.values())}
biases = {row(net.biases.values())}
train_biases = {str(net.train_biases).lower()}
learning_rate = {net.learning_rate!r}
[data]
inputs = [{", ".join(row(x) for x, _ in net.samples)}]
targets = [{", ".join(row(y) for _, y in net.samples)}]
batch = "{net.batch}"
"""


@pytest.fixture(params=["compiled", "matrix"])
def backend(request, monkeypatch):
    """Every lesson trained by one loop: the crossover moved to either end."""
    monkeypatch.setattr(training, "CROSSOVER", 10**9 if request.param == "compiled" else 0)
    return request.param


@pytest.mark.parametrize("which", ["cross-entropy", "binary-cross-entropy"])
def test_train_reports_the_multi_sample_cross_entropy_it_defines(cli, write_lesson, backend, which):
    net = next(n for n in NETS if n.loss == which and n.extra)
    data = json.loads(cli("train", "--lesson", write_lesson(lesson_text(net)), "-n", "3", "--json").stdout)
    assert data["initial_error"] == pytest.approx(reference_error(net, net.weights | net.biases), rel=1e-12)
    after = dict(zip(data["parameters"], (v["after"] for v in data["parameters"].values())))
    assert data["error"] == pytest.approx(reference_error(net, after), rel=1e-12)


def test_a_softmax_of_one_output_trains_as_the_engine_updates(cli, write_lesson, backend):
    net = dataclasses.replace(next(n for n in NETS if n.activations[-1] == "softmax" and n.layout.sizes[-1] == 1),
                              extra=())
    result = cli("train", "--lesson", write_lesson(lesson_text(net)), "-n", "4", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    trace = run(net)  # out is 1 whatever the net input: no error, no gradient
    assert data["error"] == trace["E_total+"] == 0 and list(data["outputs"].values()) == [1.0]
    assert all(v["after"] == v["before"] == trace.get(n + "+", trace[n]) for n, v in data["parameters"].items())


def test_every_option_works_with_either_loop(cli, write_lesson, backend, tmp_path):
    net = next(n for n in NETS if n.extra and n.loss == "half-squared-error")
    path = write_lesson(lesson_text(net))
    until = run(net)["E_total"] * 0.999
    out = cli("train", "--lesson", path, "-n", "5000", "--every", "1000", "--until", until).output
    line = next(l for l in out.splitlines() if l.startswith("E_total fell below"))
    n = int(line.split(" after ")[1].split(" ")[0].replace(",", ""))
    assert training.train(net, n).error < until <= training.train(net, n - 1).error
    history = tmp_path / "h.csv"
    data = json.loads(cli("train", "--lesson", path, "-n", "300", "--every", "100", "--csv", history, "--json").stdout)
    assert [c["update"] for c in data["checkpoints"]] == [0, 1, 10, 100, 200, 300]
    rows = history.read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "100", "200", "300"]
    values = dict(zip(rows[0].split(","), map(float, rows[-1].split(","))))
    assert values["E_total"] == data["error"] == pytest.approx(
        reference_error(net, {k: v["after"] for k, v in data["parameters"].items()}), rel=1e-12)


def test_divergence_is_found_at_the_same_update_by_either_loop(monkeypatch):
    net = dataclasses.replace(NETS[1], activations=("identity",) * NETS[1].layout.depth, learning_rate=20.0)
    found = []
    for crossover in (10**9, 0):  # the compiled loop, then NumPy's
        monkeypatch.setattr(training, "CROSSOVER", crossover)
        with pytest.raises(training.Diverged) as caught:
            training.train(net, 2_000)
        found.append(caught.value.update)
    assert found[0] == found[1] > 0


def peak(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_row_every_update_and_a_record_every_update_take_bounded_memory():
    net = next(n for n in NETS if n.layout.sizes == (1, 1))  # the quickest: tracemalloc slows every float
    recorded = []

    def updates(total: int) -> None:
        loop = CompiledLoop(net)
        last = [0]

        def record(point: training.Point) -> None:
            assert point.update == last[0] + (point.update > 0)
            last[0] = point.update

        run_ = training.run_schedule(loop, total, every=1, record_every=1, record=record)
        tail = None
        for k, point in enumerate(run_.rows):  # read back, in order, without keeping them
            assert point.update == k
            tail = point
        assert tail == training.Point(total, run_.last.error, run_.last.outputs)
        recorded.append(last[0])
        run_.rows.close()

    short, long = peak(lambda: updates(1_500)), peak(lambda: updates(6_000))
    assert long < short + 150_000, (short, long)  # 4,500 more updates: before, 1.1 KB each (5 MB)
    assert recorded == [1_500, 6_000]
    schedule = training.Schedule(10_000_000, every=1, record_every=1)
    assert peak(lambda: [next(iter(schedule.points())) for _ in range(3)]) < 100_000
