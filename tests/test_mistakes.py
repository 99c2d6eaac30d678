"""Naming the mistake. Each wrong value here comes from the rule written out in this file, on an
independent forward pass; the diagnosis must name that rule. Oracles: this file's arithmetic and
the two values readers report in the post's comments."""

import dataclasses
import math
import random

import pytest

from backprop_tutor import answers, progress
from backprop_tutor.checking import Session
from backprop_tutor.lesson import Lesson, load
from backprop_tutor.mistakes import MISTAKES, Diagnoser, on_step_only
from backprop_tutor.names import Layout
from backprop_tutor.network import Network


def sigma(x):
    return 1 / (1 + math.exp(-x))


class Hand:
    """A 1-hidden-layer logistic network computed by hand, in the post's numbering (by receiver)."""

    def __init__(self, net):
        self.net = net
        n_in, n_h, n_o = net.layout.sizes
        self.n_in, self.n_h, self.n_o = n_in, n_h, n_o
        W = [net.weights[f"w{k + 1}"] for k in range(n_in * n_h + n_h * n_o)]
        self.w1 = [[W[r * n_in + s] for s in range(n_in)] for r in range(n_h)]  # into hidden r from input s
        self.w2 = [[W[n_in * n_h + k * n_h + r] for r in range(n_h)] for k in range(n_o)]
        self.b1, self.b2 = net.biases["b1"], net.biases["b2"]
        self.x, self.y, self.eta = net.inputs, net.targets, net.learning_rate
        self.net_h = [sum(w * x for w, x in zip(row, self.x)) + self.b1 for row in self.w1]
        self.out_h = [sigma(v) for v in self.net_h]
        self.net_o = [sum(w * h for w, h in zip(row, self.out_h)) + self.b2 for row in self.w2]
        self.out_o = [sigma(v) for v in self.net_o]
        self.dE_dout = [-(t - o) for t, o in zip(self.y, self.out_o)]
        self.slope_o = [o * (1 - o) for o in self.out_o]
        self.delta_o = [a * b for a, b in zip(self.dE_dout, self.slope_o)]
        self.grad_w5 = self.delta_o[0] * self.out_h[0]  # the first output weight: h1 → o1

    def w_name(self, k, r):
        """The name of the weight from hidden r to output k (by receiver)."""
        return f"w{self.n_in * self.n_h + k * self.n_h + r + 1}"


# The wrong value each rule gives, written out here: (step, value) on a network computed by hand.
def wrong_values(h):
    o = h.out_o
    # by-sender labels: weight k+1 leaves input k // n_h and feeds hidden k % n_h
    W = [h.net.weights[f"w{k + 1}"] for k in range(h.n_in * h.n_h)]
    sender = [[W[s * h.n_h + r] for s in range(h.n_in)] for r in range(h.n_h)]
    values = {
        "bias-left-out": ("net_h1", sum(w * x for w, x in zip(h.w1[0], h.x))),
        "no-squash": ("out_h1", h.net_h[0]),
        "exponent-sign": ("out_h1", 1 / (1 + math.exp(h.net_h[0]))),
        "other-numbering": ("net_h1", sum(w * x for w, x in zip(sender[0], h.x)) + h.b1),
        "half-dropped": ("E_o1", (h.y[0] - o[0]) ** 2),
        "one-output-error": ("E_total", 0.5 * (h.y[0] - o[0]) ** 2),
        "averaged": ("E_total", sum(0.5 * (t - v) ** 2 for t, v in zip(h.y, o)) / h.n_o),
        "slope-sign": ("dE_total/dout_o1", h.y[0] - o[0]),
        "output-slope-forgotten": ("delta_o1", h.dE_dout[0]),
        "slope-from-net": ("dout_o1/dnet_o1", h.net_o[0] * (1 - h.net_o[0])),
        "slope-twice": ("dout_o1/dnet_o1", sigma(o[0]) * (1 - sigma(o[0]))),
        "net-as-source": ("dnet_o1/dw" + h.w_name(0, 0)[1:], h.net_h[0]),
        "wrong-source": ("dnet_o1/dw" + h.w_name(0, 0)[1:], h.out_h[1 % h.n_h]),
        "one-path": ("dE_total/dout_h1", h.delta_o[0] * h.w2[0][0]),
        "wrong-path-weight": ("dE_o2/dout_h1", h.delta_o[1] * h.w2[0][0]),
        # by sender, the label of the weight leaving h1 for o2 is w(n_in·n_h + 2): in the post, w6
        "path-weight-numbering": ("dE_o2/dout_h1", h.delta_o[1] * h.net.weights[f"w{h.n_in * h.n_h + 2}"]),
        "updated-weights": ("dE_o1/dout_h1", h.delta_o[0] * (h.w2[0][0] - h.eta * h.grad_w5)),
        "hidden-slope-forgotten": ("delta_h1", sum(d * row[0] for d, row in zip(h.delta_o, h.w2))),
        "no-learning-rate": (h.w_name(0, 0) + "+", h.w2[0][0] - h.grad_w5),
        "gradient-added": (h.w_name(0, 0) + "+", h.w2[0][0] + h.eta * h.grad_w5),
    }
    values |= {
        "other-activation-slope": ("dout_o1/dnet_o1", 1 - o[0] ** 2),
        "base-ten": ("out_h1", 1 / (1 + 10 ** -h.net_h[0])),
        "no-reciprocal": ("out_h1", math.exp(-h.net_h[0])),
        "paths-averaged": ("dE_total/dout_h1", sum(d * row[0] for d, row in zip(h.delta_o, h.w2)) / h.n_o),
        "eta-mistyped": (h.w_name(0, 0) + "+", h.w2[0][0] - h.eta / 10 * h.grad_w5),
        "eta-mistyped-up": (h.w_name(0, 0) + "+", h.w2[0][0] - h.eta * 10 * h.grad_w5),
        "wrong-target": ("E_o1", 0.5 * (h.y[1] - o[0]) ** 2),
    }
    if 0 < h.y[0] < 0.1:
        values["target-misread"] = ("E_o1", 0.5 * (10 * h.y[0] - o[0]) ** 2)
    return values


def random_post_like(seed, shape=(2, 2, 2)):
    rng = random.Random(seed)
    layout = Layout(shape)
    targets = (rng.choice([0.01, 0.02, 0.05]), *(rng.uniform(0.3, 0.95) for _ in range(shape[-1] - 1)))
    return Network(layout, {w: round(rng.uniform(-0.9, 0.9), 2) for w in layout.weight_names()},
                   {b: round(rng.uniform(-0.9, 0.9), 2) for b in layout.bias_names()}, ("logistic", "logistic"),
                   "half-squared-error", tuple(round(rng.uniform(0.05, 0.95), 2) for _ in range(shape[0])),
                   targets, rng.choice([0.5, 0.3, 1.0]))


def session_for(net):
    return Session(Lesson("random", "random", "A random network", "for the tests", net))


NETWORKS = [pytest.param(load().network, id="post"),
            *(pytest.param(random_post_like(seed, shape), id=f"{'-'.join(map(str, shape))}-{seed}")
              for seed, shape in [(1, (2, 2, 2)), (2, (2, 2, 2)), (3, (3, 2, 2)), (4, (2, 3, 2)), (5, (2, 3, 3))])]


# every rule of a logistic network with ½ squared error; softmax-slope-kept and the binary cross-entropy
# rules are tested on their own losses
RULES = [m.id for m in MISTAKES if m.network is not on_step_only
         and m.id not in ("softmax-slope-kept", "samples-combined-wrong") and not m.id.startswith("bce-")]
BCE_RULES = [m.id for m in MISTAKES if m.id.startswith("bce-")]


def bce_wrong_values(h):
    """The binary cross-entropy rules, written out on the hand-computed network: (step, value)."""
    t, o = h.y[0], h.out_o[0]
    return {
        "bce-slope-sign": ("dE_total/dout_o1", t / o - (1 - t) / (1 - o)),
        "bce-slope-kept": ("delta_o1", (o - t) * o * (1 - o)),  # σ′ multiplied in though it has cancelled
        "bce-one-term": ("E_o1", -t * math.log(o)),
    }


BCE_NETWORKS = [pytest.param(load("post-bce").network, id="post-bce"),
                *(pytest.param(dataclasses.replace(random_post_like(seed, shape), loss="binary-cross-entropy"),
                               id=f"bce-{'-'.join(map(str, shape))}-{seed}")
                  for seed, shape in [(1, (2, 2, 2)), (4, (2, 3, 2))])]


@pytest.mark.parametrize("net", BCE_NETWORKS)
@pytest.mark.parametrize("mistake", BCE_RULES)
def test_every_binary_cross_entropy_rule_is_named(net, mistake):
    qid, value = bce_wrong_values(Hand(net))[mistake]
    session = session_for(net)
    result = session.check(qid, f"{value:.9g}")
    assert result.verdict == answers.WRONG, (qid, value)
    assert mistake in [f.id for f in result.findings], (qid, result.findings)


def test_the_squared_error_sign_rule_is_not_named_for_binary_cross_entropy():
    """Its words are about −(target − out); with binary cross-entropy the sign slip has its own."""
    h = Hand(load("post-bce").network)
    t, o = h.y[0], h.out_o[0]
    result = session_for(load("post-bce").network).check("dE_total/dout_o1", f"{t / o - (1 - t) / (1 - o):.9g}")
    assert "slope-sign" not in [f.id for f in result.findings]


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("mistake", RULES)
def test_every_rule_is_named_when_its_value_is_typed(net, mistake):
    hand = Hand(net)
    values = wrong_values(hand)
    assert mistake in values  # every network here has a target below 0.1 to misread
    qid, value = values[mistake]
    session = session_for(net)
    truth = session.trace[qid]
    typed = f"{value:.9g}"
    result = session.check(qid, typed)
    if result.verdict != answers.WRONG:
        # the slip gives the right value here (e.g. two equal weights): no diagnosis, and it must say so
        assert abs(value - truth) <= session.drift[qid] + abs(truth) * 1e-8, (qid, value, truth)
        return
    assert mistake in [f.id for f in result.findings], (qid, typed, result.findings)


def test_the_two_values_from_the_comments(cli):
    path_weight = cli("check", "dE_o2/dout_h1", "-0.017144205", "--json")
    import json

    data = json.loads(path_weight.stdout)
    assert path_weight.exit_code == 1 and [d["id"] for d in data["diagnosis"]] == ["path-weight-numbering"]
    updated = json.loads(cli("check", "dE/dw1", "0.000364723", "--json").stdout)
    assert [d["id"] for d in updated["diagnosis"]] == ["updated-weights"]
    assert "weights as they were before the update" in updated["diagnosis"][0]["text"]


@pytest.mark.parametrize("net", NETWORKS)
def test_a_diagnosed_value_is_never_one_accepted_as_right(net):
    """On every step where a rule is named, its value, typed in full, is judged wrong."""
    session = session_for(net)
    diagnoser = Diagnoser(net, session.trace, session.catalogue, session.drift)
    named = 0
    for qid, q in session.catalogue.items():
        if q.given:
            continue
        for mid, value in diagnoser.mistakes_on(qid).items():
            result = session.check(qid, f"{value:.15e}")
            assert result.verdict == answers.WRONG, (qid, mid, value)
            if qid.startswith("delta_") and abs(value + session.trace[qid]) <= 1e-12 * abs(value):
                assert [f.id for f in result.findings] == ["delta-sign"]  # a convention, not a mistake
                continue
            assert mid in [f.id for f in result.findings] or result.erratum is not None, (qid, mid)
            named += 1
        # and a rule whose value cannot be told from the right one is not offered on that step
        for mid, trace in diagnoser.variants.items():
            if qid in trace and math.isfinite(trace[qid]) and mid not in diagnoser.mistakes_on(qid):
                assert answers.judge(answers.parse_number(f"{trace[qid]:.15e}"), session.trace[qid],
                                     session.drift[qid]) != answers.WRONG
    assert named > 100


def test_rules_giving_the_same_value_are_named_together():
    session = Session(load())
    # with η = 0.5, leaving out the ½ (doubling the gradient) and leaving out η give the same w5⁺
    result = session.check("w5", "0.317832959")
    assert {f.id for f in result.findings} >= {"half-dropped", "no-learning-rate"}


@pytest.mark.parametrize(("name", "typed", "slip"), [
    ("w5", "-0.35891648", "sign"),
    ("w5", "3.5891648", "power-of-ten"),
    ("dE/dw5", "0.00821670406", "power-of-ten"),
    ("w5", "0.082167041", "gradient-typed"),  # the gradient typed where w5⁺ was asked
    ("w5", "0.400", "not-updated"),  # the old weight
    ("out_o1", "1.105905967", "no-squash"),  # net for out
])
def test_simple_slips(name, typed, slip):
    result = Session(load()).check(name, typed)
    assert result.verdict == answers.WRONG and [f.id for f in result.findings] == [slip]


def test_a_right_value_earlier_pins_the_diagnosis_to_this_step():
    """In the walk, earlier values are right: a rule is judged on this step's own formula only."""
    session = Session(load())
    state = progress.Progress("post")
    for q in ("net_h1", "out_h1", "net_h2", "out_h2"):
        state.records[q] = progress.Record(progress.RIGHT, session.trace[q])
    # bias left out of net_o1 only: w5·out_h1 + w6·out_h2 with the right outs
    hand = Hand(session.lesson.network)
    value = sum(w * x for w, x in zip(hand.w2[0], hand.out_h))
    result = session.check("net_o1", f"{value:.9g}", state)
    assert [f.id for f in result.findings] == ["bias-left-out"]


def test_carried_error_in_check(cli):
    assert cli("check", "net_h1", "0.0275").exit_code == 1  # the bias left out
    out = cli("check", "out_h1", f"{sigma(0.0275):.9g}").output
    assert "This follows from your net_h1, the first value that was off: fix that" in out
    assert "You left the bias" not in out  # not called a new mistake


def test_carried_error_and_pattern_in_a_scripted_walk(cli):
    carried = f"{sigma(0.0275):.9g}"
    steps = ["0.0275", "skip", carried, "0.593269992", "0.0425", "0.3925", "q"]
    out = cli("start", input="".join(s + "\n" for s in steps)).output
    assert "→ You left the bias out of the net input." in out
    assert "This follows from your net_h1, the first value that was off: fix that" in out
    assert "This is the same slip as before (net_h1, net_h2): a pattern, not a one-off." in out
    assert "Every neuron's net input has a bias term" in out
    report = cli("progress").output
    assert "Mistakes seen: bias-left-out (net_h1, net_h2)" in report


def test_json_carries_the_diagnosis_and_the_pattern(cli):
    import json

    cli("check", "net_h1", "0.0275")
    data = json.loads(cli("check", "net_h2", "0.0425", "--json").stdout)
    assert data["diagnosis"][0]["id"] == "bias-left-out" and data["diagnosis"][0]["kind"] == "mistake"
    assert data["patterns"] == [{"mistake": "bias-left-out", "steps": ["net_h1", "net_h2"],
                                 "hint": data["patterns"][0]["hint"]}]
    right = json.loads(cli("check", "net_h2", "0.3925", "--json").stdout)
    assert "diagnosis" not in right
