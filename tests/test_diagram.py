"""The network's picture: the expected pictures are written out by hand, from the post's figure and numbers.

Steps are drawn as a learner who has done every step before them has the values (``walk.known_at``):
net_o1 (forward), ∂E_total/∂w5 (output layer) and ∂E_total/∂out_h1 (hidden layer), at 80 and at 40
columns, in unicode and in ASCII.
"""

import re
import time

import pytest

from backprop_tutor import diagram
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load
from backprop_tutor.walk import known_at


@pytest.fixture(scope="module")
def sessions():
    return {name: Session(load(name)) for name in ("post", "deep", "softmax-ce", "xor", "post-biases")}


def draw(sessions, lesson, step, width, unicode=True, height=None):
    s = sessions[lesson]
    qid = s.resolver.resolve(step).id if step else None
    known = known_at(s.lesson.network, s.trace, s.catalogue, qid)
    return diagram.picture(s.lesson.network, known, step=qid, catalogue=s.catalogue, width=width, unicode=unicode,
                           height=height)


def text(lines):
    return "\n".join(diagram.plain(lines)) + "\n"


# The post, at a forward step: net_o1 is computed along w5 (from h1) and w6 (from h2); o1 is the step's
# neuron; every value fits at the post's own digits.
POST_NET_O1_80 = """\
Network 2-2-2: one bias per layer, shared, not trained.

inputs                    hidden                               outputs
                          logistic                             logistic
                          + b1 0.35                            + b2 0.6
i1 0.05 ─┬ w1 0.15 ─▶ h1  h1 net 0.3775      ─┬ w5 0.4  ━▶ o1  o1* net ?
         └ w3 0.25 ─▶ h2     out 0.593269992  └ w7 0.5  ─▶ o2      out ?
                                                                   target 0.01
i2 0.1  ─┬ w2 0.2  ─▶ h1  h2 net 0.3925      ─┬ w6 0.45 ━▶ o1
         └ w4 0.3  ─▶ h2     out 0.596884378  └ w8 0.55 ─▶ o2  o2  net ?
                                                                   out ?
                                                                   target 0.99

━━▶ the connections it is computed along: h1 → o1 (w5), h2 → o1 (w6).
* o1: the neuron of this step.
"""

# The output layer: ∂E_total/∂w5 runs along w5 alone; no δ is known yet (the walk, as the post, has the three
# factors, then ∂E/∂w5, then names δ_o1); w5 is the weight before the update (w5⁺ comes after this step).
# The columns fit at 6 significant digits.
POST_DW5_80 = """\
Network 2-2-2: one bias per layer, shared, not trained.

inputs                    hidden                            outputs
                          logistic                          logistic
                          + b1 0.35                         + b2 0.6
i1 0.05 ─┬ w1 0.15 ─▶ h1  h1 net 0.3775   ─┬ w5 0.4  ━▶ o1  o1 net 1.10591
         └ w3 0.25 ─▶ h2     out 0.59327   └ w7 0.5  ─▶ o2     out 0.751365
                                                               target 0.01
i2 0.1  ─┬ w2 0.2  ─▶ h1  h2 net 0.3925   ─┬ w6 0.45 ─▶ o1
         └ w4 0.3  ─▶ h2     out 0.596884  └ w8 0.55 ─▶ o2  o2 net 1.22492
                                                               out 0.772928
                                                               target 0.99

━━▶ the connections the chain rule runs along: h1 → o1 (w5).
The weights before the update: every gradient is taken with them.
Values rounded to 6 significant digits.
"""

# The hidden layer: ∂E_total/∂out_h1 runs along both paths out of h1, w5 to o1 and w7 to o2, which sit
# together; both δ of the outputs are known; w5…w8 are shown as before the update though w5⁺…w8⁺ are known.
POST_DOUT_H1_80 = """\
Network 2-2-2: one bias per layer, shared, not trained.

inputs                    hidden                             outputs
                          logistic                           logistic
                          + b1 0.35                          + b2 0.6
i1 0.05 ─┬ w1 0.15 ─▶ h1  h1* net 0.3775   ─┬ w5 0.4  ━▶ o1  o1 net 1.10591
         └ w3 0.25 ─▶ h2      out 0.59327   └ w7 0.5  ━▶ o2     out 0.751365
                                                                target 0.01
i2 0.1  ─┬ w2 0.2  ─▶ h1  h2  net 0.3925   ─┬ w6 0.45 ─▶ o1     δ   0.138499
         └ w4 0.3  ─▶ h2      out 0.596884  └ w8 0.55 ─▶ o2
                                                             o2 net 1.22492
                                                                out 0.772928
                                                                target 0.99
                                                                δ   -0.0380982

━━▶ the connections the chain rule runs along: h1 → o1 (w5), h1 → o2 (w7).
* h1: the neuron of this step.
The weights before the update: every gradient is taken with them.
Values rounded to 6 significant digits.
"""

# At 40 columns the layers are stacked, each above the next; the values keep the post's digits.
POST_NET_O1_40 = """\
Network 2-2-2: one bias per layer,
shared, not trained.

inputs
i1 0.05 ─┬ w1 0.15 ─▶ h1
         └ w3 0.25 ─▶ h2

i2 0.1  ─┬ w2 0.2  ─▶ h1
         └ w4 0.3  ─▶ h2

hidden · logistic · + b1 0.35
h1 net 0.3775      ─┬ w5 0.4  ━▶ o1
   out 0.593269992  └ w7 0.5  ─▶ o2

h2 net 0.3925      ─┬ w6 0.45 ━▶ o1
   out 0.596884378  └ w8 0.55 ─▶ o2

outputs · logistic · + b2 0.6
o1* net ?
    out ?
    target 0.01

o2  net ?
    out ?
    target 0.99

━━▶ the connections it is computed
along: h1 → o1 (w5), h2 → o1 (w6).
* o1: the neuron of this step.
"""

POST_DW5_40 = """\
Network 2-2-2: one bias per layer,
shared, not trained.

inputs
i1 0.05 ─┬ w1 0.15 ─▶ h1
         └ w3 0.25 ─▶ h2

i2 0.1  ─┬ w2 0.2  ─▶ h1
         └ w4 0.3  ─▶ h2

hidden · logistic · + b1 0.35
h1 net 0.3775      ─┬ w5 0.4  ━▶ o1
   out 0.593269992  └ w7 0.5  ─▶ o2

h2 net 0.3925      ─┬ w6 0.45 ─▶ o1
   out 0.596884378  └ w8 0.55 ─▶ o2

outputs · logistic · + b2 0.6
o1 net 1.105905967
   out 0.75136507
   target 0.01

o2 net 1.224921404
   out 0.772928465
   target 0.99

━━▶ the connections the chain rule runs
along: h1 → o1 (w5).
The weights before the update: every
gradient is taken with them.
"""

POST_DOUT_H1_40 = """\
Network 2-2-2: one bias per layer,
shared, not trained.

inputs
i1 0.05 ─┬ w1 0.15 ─▶ h1
         └ w3 0.25 ─▶ h2

i2 0.1  ─┬ w2 0.2  ─▶ h1
         └ w4 0.3  ─▶ h2

hidden · logistic · + b1 0.35
h1* net 0.3775      ─┬ w5 0.4  ━▶ o1
    out 0.593269992  └ w7 0.5  ━▶ o2

h2  net 0.3925      ─┬ w6 0.45 ─▶ o1
    out 0.596884378  └ w8 0.55 ─▶ o2

outputs · logistic · + b2 0.6
o1 net 1.105905967
   out 0.75136507
   target 0.01
   δ   0.138498562

o2 net 1.224921404
   out 0.772928465
   target 0.99
   δ   -0.038098237

━━▶ the connections the chain rule runs
along: h1 → o1 (w5), h1 → o2 (w7).
* h1: the neuron of this step.
The weights before the update: every
gradient is taken with them.
"""

# ASCII: - = + > for the lines, "delta" for δ (wider: the columns take it into account), -> for →.
POST_NET_O1_80_ASCII = """\
Network 2-2-2: one bias per layer, shared, not trained.

inputs                    hidden                               outputs
                          logistic                             logistic
                          + b1 0.35                            + b2 0.6
i1 0.05 -+ w1 0.15 -> h1  h1 net 0.3775      -+ w5 0.4  => o1  o1* net ?
         + w3 0.25 -> h2     out 0.593269992  + w7 0.5  -> o2      out ?
                                                                   target 0.01
i2 0.1  -+ w2 0.2  -> h1  h2 net 0.3925      -+ w6 0.45 => o1
         + w4 0.3  -> h2     out 0.596884378  + w8 0.55 -> o2  o2  net ?
                                                                   out ?
                                                                   target 0.99

==> the connections it is computed along: h1 -> o1 (w5), h2 -> o1 (w6).
* o1: the neuron of this step.
"""

POST_DW5_80_ASCII = """\
Network 2-2-2: one bias per layer, shared, not trained.

inputs                    hidden                            outputs
                          logistic                          logistic
                          + b1 0.35                         + b2 0.6
i1 0.05 -+ w1 0.15 -> h1  h1 net 0.3775   -+ w5 0.4  => o1  o1 net 1.10591
         + w3 0.25 -> h2     out 0.59327   + w7 0.5  -> o2     out 0.751365
                                                               target 0.01
i2 0.1  -+ w2 0.2  -> h1  h2 net 0.3925   -+ w6 0.45 -> o1
         + w4 0.3  -> h2     out 0.596884  + w8 0.55 -> o2  o2 net 1.22492
                                                               out 0.772928
                                                               target 0.99

==> the connections the chain rule runs along: h1 -> o1 (w5).
The weights before the update: every gradient is taken with them.
Values rounded to 6 significant digits.
"""

POST_DOUT_H1_80_ASCII = """\
Network 2-2-2: one bias per layer, shared, not trained.

inputs                    hidden                             outputs
                          logistic                           logistic
                          + b1 0.35                          + b2 0.6
i1 0.05 -+ w1 0.15 -> h1  h1* net 0.3775   -+ w5 0.4  => o1  o1 net   1.10591
         + w3 0.25 -> h2      out 0.59327   + w7 0.5  => o2     out   0.751365
                                                                target 0.01
i2 0.1  -+ w2 0.2  -> h1  h2  net 0.3925   -+ w6 0.45 -> o1     delta 0.138499
         + w4 0.3  -> h2      out 0.596884  + w8 0.55 -> o2
                                                             o2 net   1.22492
                                                                out   0.772928
                                                                target 0.99
                                                                delta -0.0380982

==> the connections the chain rule runs along: h1 -> o1 (w5), h1 -> o2 (w7).
* h1: the neuron of this step.
The weights before the update: every gradient is taken with them.
Values rounded to 6 significant digits.
"""

POST_NET_O1_40_ASCII = """\
Network 2-2-2: one bias per layer,
shared, not trained.

inputs
i1 0.05 -+ w1 0.15 -> h1
         + w3 0.25 -> h2

i2 0.1  -+ w2 0.2  -> h1
         + w4 0.3  -> h2

hidden | logistic | + b1 0.35
h1 net 0.3775      -+ w5 0.4  => o1
   out 0.593269992  + w7 0.5  -> o2

h2 net 0.3925      -+ w6 0.45 => o1
   out 0.596884378  + w8 0.55 -> o2

outputs | logistic | + b2 0.6
o1* net ?
    out ?
    target 0.01

o2  net ?
    out ?
    target 0.99

==> the connections it is computed
along: h1 -> o1 (w5), h2 -> o1 (w6).
* o1: the neuron of this step.
"""

POST_DW5_40_ASCII = """\
Network 2-2-2: one bias per layer,
shared, not trained.

inputs
i1 0.05 -+ w1 0.15 -> h1
         + w3 0.25 -> h2

i2 0.1  -+ w2 0.2  -> h1
         + w4 0.3  -> h2

hidden | logistic | + b1 0.35
h1 net 0.3775      -+ w5 0.4  => o1
   out 0.593269992  + w7 0.5  -> o2

h2 net 0.3925      -+ w6 0.45 -> o1
   out 0.596884378  + w8 0.55 -> o2

outputs | logistic | + b2 0.6
o1 net 1.105905967
   out 0.75136507
   target 0.01

o2 net 1.224921404
   out 0.772928465
   target 0.99

==> the connections the chain rule runs
along: h1 -> o1 (w5).
The weights before the update: every
gradient is taken with them.
"""

POST_DOUT_H1_40_ASCII = """\
Network 2-2-2: one bias per layer,
shared, not trained.

inputs
i1 0.05 -+ w1 0.15 -> h1
         + w3 0.25 -> h2

i2 0.1  -+ w2 0.2  -> h1
         + w4 0.3  -> h2

hidden | logistic | + b1 0.35
h1* net 0.3775      -+ w5 0.4  => o1
    out 0.593269992  + w7 0.5  => o2

h2  net 0.3925      -+ w6 0.45 -> o1
    out 0.596884378  + w8 0.55 -> o2

outputs | logistic | + b2 0.6
o1 net   1.105905967
   out   0.75136507
   target 0.01
   delta 0.138498562

o2 net   1.224921404
   out   0.772928465
   target 0.99
   delta -0.038098237

==> the connections the chain rule runs
along: h1 -> o1 (w5), h1 -> o2 (w7).
* h1: the neuron of this step.
The weights before the update: every
gradient is taken with them.
"""

POST = {
    ("net_o1", 80, True): POST_NET_O1_80, ("dE/dw5", 80, True): POST_DW5_80,
    ("dE/dout_h1", 80, True): POST_DOUT_H1_80, ("net_o1", 40, True): POST_NET_O1_40,
    ("dE/dw5", 40, True): POST_DW5_40, ("dE/dout_h1", 40, True): POST_DOUT_H1_40,
    ("net_o1", 80, False): POST_NET_O1_80_ASCII, ("dE/dw5", 80, False): POST_DW5_80_ASCII,
    ("dE/dout_h1", 80, False): POST_DOUT_H1_80_ASCII, ("net_o1", 40, False): POST_NET_O1_40_ASCII,
    ("dE/dw5", 40, False): POST_DW5_40_ASCII, ("dE/dout_h1", 40, False): POST_DOUT_H1_40_ASCII,
}


@pytest.mark.parametrize(("step", "width", "unicode"), list(POST))
def test_the_post_drawn_exactly(sessions, step, width, unicode):
    drawn = draw(sessions, "post", step, width, unicode)
    assert text(drawn) == POST[step, width, unicode]
    assert max(diagram.width_of(line) for line in drawn) <= width
    if not unicode:
        assert text(drawn).isascii()


@pytest.mark.parametrize("lesson", ["post", "xor", "post-biases"])
def test_what_a_learner_has_at_a_step(sessions, lesson):
    from backprop_tutor.walk import steps

    s = sessions[lesson]
    givens = {q for q, item in s.catalogue.items() if item.given}
    order = [step.qid for step in steps(s.catalogue)]
    for at in (None, order[0], order[len(order) // 2], order[-1]):
        expected = givens | (set(order[:order.index(at)]) if at else set())
        shown = re.search(r"@\d+", at or "") or re.search(r"@\d+", "@1")
        # several samples: the picture shows the step's sample (or sample 1), and the batch's own values
        expected = {q for q in expected if q in givens or "@" not in q or re.search(r"@\d+", q)[0] == shown[0]}
        known = known_at(s.lesson.network, s.trace, s.catalogue, at)
        assert set(known) == expected and all(known[q] == s.trace[q] for q in known)


def test_only_the_weights_before_the_update_until_the_update_section(sessions):
    s = sessions["post"]
    at = known_at(s.lesson.network, s.trace, s.catalogue, "dE_total/dout_h1")
    assert "w5+" in at and "w8+" in at  # the updated output weights are known at the hidden layer …
    for width in (40, 80, 120):
        shown = text(draw(sessions, "post", "dE/dout_h1", width))
        assert "0.358916" not in shown and "⁺" not in shown and "→ 0.3" not in shown  # … and not shown
    after = text(draw(sessions, "post", "net_h1+", 80))
    assert "w5⁺ 0.358916" in after and "w1⁺ 0.149781" in after and "w5 0.4" not in after
    assert "The weights after the update" in after


def test_the_values_are_abbreviated_never_cut(sessions):
    for width in range(30, 121, 5):
        for step in ("dE/dout_h1", "dE/dw1", "E_total+"):
            drawn = text(draw(sessions, "post", step, width))
            assert "…" not in drawn and "0…" not in drawn
            assert max(len(line) for line in drawn.splitlines()) <= width
            assert re.search(r"out⁺? 0\.593\d*", drawn), (width, step)  # 0.593269992 rounded, at 3 digits at least
            digits = re.search(r"Values rounded to (\d) significant", drawn.replace("\n", " "))
            assert digits is None or int(digits[1]) >= 3
    at_50 = text(draw(sessions, "post", "dE/dout_h1", 50))
    assert "out 0.593269992" in at_50  # stacked at 50 columns: the post's digits


DEEP_DOUT_H1_80 = """\
Network 2-2-2-2: one bias per layer, shared, not trained.

inputs
i1 0.05 ─┬ w1 0.15 ─▶ h1
         └ w3 0.25 ─▶ h2

i2 0.1  ─┬ w2 0.2  ─▶ h1
         └ w4 0.3  ─▶ h2

hidden 1 · logistic · + b1 0.35
h1* net 0.3775      ─┬ w5 0.35 ━▶ j1
    out 0.593269992  └ w7 0.45 ━▶ j2

h2  net 0.3925      ─┬ w6 0.4  ─▶ j1
    out 0.596884378  └ w8 0.5  ─▶ j2

hidden 2 · logistic · + b2 0.45
j1 net 0.896398249 ─┬ w9  0.4  ━▶ o1
   out 0.71020878   └ w11 0.5  ━▶ o2
   δ   0.007805729

j2 net 1.015413686 ─┬ w10 0.45 ━▶ o1
   out 0.734078279  └ w12 0.55 ━▶ o2
   δ   0.008406121

outputs · logistic · + b3 0.6
o1 net 1.214418737
   out 0.77107986
   target 0.01
   δ   0.134342552

o2 net 1.358847443
   out 0.795572313
   target 0.99
   δ   -0.031621137

━━▶ the connections the chain rule runs along: w5, w7, w9, w10, w11, w12.
* h1: the neuron of this step.
The weights before the update: every gradient is taken with them.
"""


def test_deep_every_path_out_of_h1_through_both_hidden_layers(sessions):
    assert text(draw(sessions, "deep", "dE/dout_h1", 80)) == DEEP_DOUT_H1_80


# Softmax and cross-entropy: δ_o = out_o − target_o, the hidden layer's paths as in the post.
SOFTMAX_DOUT_H1_80 = """\
Network 2-2-2: one bias per layer, shared, not trained.

inputs                    hidden                             outputs
                          logistic                           softmax
                          + b1 0.35                          + b2 0.6
i1 0.05 ─┬ w1 0.15 ─▶ h1  h1* net 0.3775   ─┬ w5 0.4  ━▶ o1  o1 net 1.10591
         └ w3 0.25 ─▶ h2      out 0.59327   └ w7 0.5  ━▶ o2     out 0.470281
                                                                target 0
i2 0.1  ─┬ w2 0.2  ─▶ h1  h2  net 0.3925   ─┬ w6 0.45 ─▶ o1     δ   0.470281
         └ w4 0.3  ─▶ h2      out 0.596884  └ w8 0.55 ─▶ o2
                                                             o2 net 1.22492
                                                                out 0.529719
                                                                target 1
                                                                δ   -0.470281

━━▶ the connections the chain rule runs along: h1 → o1 (w5), h1 → o2 (w7).
* h1: the neuron of this step.
The weights before the update: every gradient is taken with them.
Values rounded to 6 significant digits.
"""

SOFTMAX_DELTA_O1_40_ASCII = """\
Network 2-2-2: one bias per layer,
shared, not trained.

inputs
i1 0.05 -+ w1 0.15 -> h1
         + w3 0.25 -> h2

i2 0.1  -+ w2 0.2  -> h1
         + w4 0.3  -> h2

hidden | logistic | + b1 0.35
h1 net 0.3775      -+ w5 0.4  -> o1
   out 0.593269992  + w7 0.5  -> o2

h2 net 0.3925      -+ w6 0.45 -> o1
   out 0.596884378  + w8 0.55 -> o2

outputs | softmax | + b2 0.6
o1* net 1.105905967
    out 0.470281212
    target 0

o2  net 1.224921404
    out 0.529718788
    target 1

* o1: the neuron of this step.
The weights before the update: every
gradient is taken with them.
"""


def test_softmax_ce(sessions):
    assert text(draw(sessions, "softmax-ce", "dE/dout_h1", 80)) == SOFTMAX_DOUT_H1_80
    assert text(draw(sessions, "softmax-ce", "delta_o1", 40, unicode=False)) == SOFTMAX_DELTA_O1_40_ASCII


# The path, worked out from the catalogue for any lesson -----------------------------------------

@pytest.mark.parametrize(("lesson", "step", "weights"), [
    ("post", "net_h1", {"w1", "w2"}),  # a forward step: the connections into h1
    ("post", "out_h1", set()),  # inside h1
    ("post", "delta_o1", set()),
    ("post", "dE/dw5", {"w5"}),
    ("post", "w5+", {"w5"}),
    ("post", "dE_o1/dout_h1", {"w5"}),  # one path: through o1
    ("post", "dE/dout_h1", {"w5", "w7"}),  # both paths out of h1
    ("post", "dE/dw1", {"w1", "w5", "w7"}),  # w1, then on through both paths out of h1
    ("post", "net_h1+", {"w1", "w2"}),  # after the update: into h1 again, no gradient behind it
    ("deep", "dE/dout_h1", {"w5", "w7", "w9", "w10", "w11", "w12"}),  # h1 → j1, j2, and each j on to o1, o2
    ("deep", "dE/dout_j1", {"w9", "w11"}),
    ("softmax-ce", "delta_o1", set()),  # the softmax couples the outputs: no connection between layers
    ("softmax-ce", "dE/dout_h1", {"w5", "w7"}),
    ("xor", "dE/dout_h1@2", {"w5"}),  # one output: one path, the same for every sample
    ("xor", "dE/dw1", {"w1", "w5"}),  # the batch's gradient: the sum of every sample's
])
def test_the_path_of_a_step(sessions, lesson, step, weights):
    s = sessions[lesson]
    assert diagram.path(s.lesson.network, s.catalogue, s.resolver.resolve(step).id) == weights


def test_several_samples_show_the_steps_sample(sessions):
    first = text(draw(sessions, "xor", "net_h1@1", 80))
    assert "4 samples; the values shown are those of sample 1." in first and "i1 0 " in first
    second = text(draw(sessions, "xor", "dE/dout_h1@2", 80))
    assert "the values shown are those of sample 2." in second
    s = sessions["xor"]
    assert f"out {diagram._number(s.trace['out_h1@2'], 6)}" in second  # sample 2's own out_h1
    assert "i1 0 " in second and "i2 1 " in second and "target 1" in second


def test_per_neuron_biases_are_drawn_at_their_neuron(sessions):
    drawn = text(draw(sessions, "xor", None, 80))
    assert re.search(r"h1 +b1 +0\.38", drawn) and re.search(r"o1 +b3 +0\.36", drawn) and "+ b" not in drawn


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    from biglesson import write

    folder = tmp_path_factory.mktemp("big")
    return {name: Session(load(str(write(folder / f"{name}.toml", layers, samples))))
            for name, layers, samples in (("wide", [16] * 5, 1), ("deeper", [16] * 7, 3), ("softmax", [16] * 5, 1))}


def test_a_large_lesson_is_bounded_legible_and_quick(big):
    for s in big.values():
        net = s.lesson.network
        ids = [q for q in ("dE_total/dout_h1", "dE_total/dout_h1@1", "dE_total/dw1", "net_o16", "net_h3", "delta_o2",
                           "E_total+", "dE_total/dw300") if q in s.catalogue]
        for qid in [*ids, None]:
            for width in (30, 80, 200):
                known = known_at(s.lesson.network, s.trace, s.catalogue, qid)
                took = []
                while len(took) < 2 and (not took or took[-1] >= 0.5):  # again if a busy machine paused it
                    started = time.perf_counter()
                    lines = diagram.picture(net, known, step=qid, catalogue=s.catalogue, width=width)
                    took.append(time.perf_counter() - started)
                assert min(took) < 0.5, (qid, width, took)
                assert 10 < len(lines) <= diagram.TALL, (qid, width, len(lines))
                assert max(diagram.width_of(line) for line in lines) <= width, (qid, width)
        drawn = text(diagram.picture(net, dict(s.trace), step=ids[0], catalogue=s.catalogue, width=80))
        assert "… 12 more: h5–h16" in drawn and "13 more" in drawn and "(not drawn here:" in drawn


def test_a_short_terminal_gets_the_layers_around_the_step_or_nothing(sessions, big):
    deep = diagram.plain(draw(sessions, "deep", "dE/dout_h1", 80, height=30))
    assert len(deep) <= 30 and "(not drawn here: inputs.)" in deep
    assert any(line.startswith("hidden 1") for line in deep) and any("outputs" in line for line in deep)
    assert draw(sessions, "post", "dE/dout_h1", 80, height=5) == []
    s = big["wide"]
    near = diagram.plain(diagram.picture(s.lesson.network, dict(s.trace), step="dE_total/dw1", catalogue=s.catalogue,
                                         width=80, height=40))
    assert 0 < len(near) <= 40 and near[2].startswith("inputs")  # w1 and what leaves h1: inputs and hidden 1


# The command and the walk -------------------------------------------------------------------------

def test_the_command(cli):
    out = cli("diagram", "--step", "dE/dout_h1", "--width", "80").output
    assert out == POST_DOUT_H1_80
    assert cli("diagram", "--step", "dE/dout_h1", "--width", "40", "--ascii").output == POST_DOUT_H1_40_ASCII
    plain = cli("diagram").output  # no step: the lesson's givens
    assert "i1 0.05 ─┬ w1 0.15 ─▶ h1" in plain and "net ?" in plain and "━" not in plain and "*" not in plain
    deep = cli("diagram", "--lesson", "deep", "--step", "dE/dout_h1").output  # COLUMNS=200: side by side
    assert "h1* net 0.3775" in deep and "━▶ j1" in deep and "━▶ o2" in deep


@pytest.mark.parametrize(("args", "message"), [
    (("--step", "dE/dout_h9"), "unknown quantity 'dE/dout_h9'"),
    (("--step", "i1"), "--step i1: i1 is given by the lesson, not a step"),
    (("--lesson", "nope"), "no lesson 'nope'"),
    (("--width", "10"), "Invalid value for '--width'"),
    (("--lesson", "xor", "--step", "dE/dout_h1"), "unknown quantity 'dE/dout_h1'"),  # xor's are dE/dout_h1@k
])
def test_bad_input_is_one_line(cli, args, message):
    result = cli("diagram", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_bad_lesson_is_one_line(cli, write_lesson):
    path = write_lesson('title = "[bold]x"\n[network]\nlayers = [2, 2]\n')
    result = cli("diagram", "--lesson", path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_at_the_walk_prompt_the_steps_path(cli):
    out = cli("start", "--step", "dE/dout_h1", input="d\nq\n").output
    assert "h1* net ?" in out and "─┬ w5 0.4  ━▶ o1" in out and " └ w7 0.5  ━▶ o2" in out
    assert "━━▶ the connections the chain rule runs along: h1 → o1 (w5), h1 → o2 (w7)." in out


def test_the_step_screen_shows_the_path_where_the_terminal_is_tall_enough(cli, monkeypatch):
    short = cli("start", "--step", "dE/dout_h1", input="q\n").output  # 25 rows: no room
    assert "━▶" not in short
    monkeypatch.setenv("LINES", "40")
    tall = cli("start", "--step", "dE/dout_h1", input="q\n").output
    screen = tall[tall.index("Compute ∂E_total/∂out_h1"):]
    assert screen.index("━▶ o1") < screen.index("∂E_total/∂out_h1 =")  # the picture, then the prompt
    assert "Network 2-2-2" not in screen  # (the shape is on the first screen, not at every step)
    forward = cli("start", "--step", "net_o1", input="q\n").output  # a forward step: only on request
    assert "━▶" not in forward[forward.index("Compute net_o1"):]


def test_in_a_terminal_the_walk_shows_the_path_at_dE_dout_h1(cli, tmp_path):
    """The real program in a pseudo-terminal, 40 rows of 80 columns, every step before ∂E/∂out_h1 done."""
    import os

    import pexpect
    from test_terminal import installed_command

    from backprop_tutor.catalogue import full_digits
    from backprop_tutor.walk import steps

    s = Session(load("post"))
    for step in steps(s.catalogue):
        if step.qid == "dE_total/dout_h1":
            break
        if step.asked:
            assert cli("check", step.qid, full_digits(s.trace[step.qid])).exit_code == 0
    command = installed_command()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    environment["TERM"] = "xterm-256color"
    child = pexpect.spawn(command[0], [*command[1:], "start"], env=environment, dimensions=(40, 80),
                          encoding="utf-8", timeout=30)
    child.expect("∂E_total/∂out_h1 = ")
    raw = child.before
    screen = re.sub(r"\x1b\[[0-9;]*m", "", raw).replace("\r\n", "\n")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert re.search(r"\x1b\[1;33m[^\x1b]*w7 0\.5  ━▶ o2", raw)  # the path in bold yellow
    at = screen[screen.index("Compute ∂E_total/∂out_h1"):]
    assert "h1* net 0.3775   ─┬ w5 0.4  ━▶ o1  o1 net 1.10591" in at
    assert "out 0.59327   └ w7 0.5  ━▶ o2" in at
    assert "δ   0.138499" in at and "δ   -0.0380982" in at  # both outputs' δ, known
    assert "━━▶ the connections the chain rule runs along: h1 → o1 (w5), h1 → o2 (w7)." in at
    assert "0.358916" not in at  # the weights before the update
    assert child.exitstatus == 0


def test_the_picture_at_a_step_knows_what_the_walk_has_asked_before_it():
    """`diagram --step` shows what a learner has at that step in the walk's order: the post computes the three
    factors, then ∂E/∂w5, then names δ_o1, so δ_o1 is not known at ∂E/∂w5."""
    from backprop_tutor.checking import Session
    from backprop_tutor.lesson import load
    from backprop_tutor.walk import known_at, steps

    for name in ("post", "deep", "softmax-ce"):
        s = Session(load(name))
        net, order = s.lesson.network, [step.qid for step in steps(s.catalogue)]
        for n, qid in enumerate(order):
            known = known_at(net, s.trace, s.catalogue, qid)
            assert qid not in known and all(q in known for q in order[:n]), (name, qid)
            assert not any(q in known for q in order[n:]), (name, qid)
    post = Session(load("post"))
    at = lambda qid: known_at(post.lesson.network, post.trace, post.catalogue, qid)  # noqa: E731
    assert "delta_o1" not in at("dE_total/dw5") and "dE_total/dw5" in at("delta_o1")
