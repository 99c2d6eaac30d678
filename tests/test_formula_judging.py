"""Judging formulas (issue 16): the definition's own formula, spelled several ways, is right for every
quantity of five lessons; formulas with a known mistake, written out here, are wrong and named.

The right formulas are built in this file from the catalogue's templates (its words, not the engine's
code); the wrong ones are written by hand."""

import json
import re

import pytest

from backprop_tutor import catalogue
from backprop_tutor.checking import Session
from backprop_tutor.formulas import LEVEL, RIGHT, WRONG, Reader
from backprop_tutor.lesson import load
from backprop_tutor.mistakes import MISTAKES

LESSONS = ["post", "post-biases", "tanh-relu", "softmax-ce", "deep", "post-bce", "xor"]
SPELLED = LESSONS[:-1]  # xor's 196 quantities are those of one sample four times: its mistakes are tried
SESSIONS = {name: Session(load(name)) for name in LESSONS}


def spellings(session, template):
    """The template with its {id}s written three ways: ids, the post's symbols, condensed aliases."""
    read = Reader(session.catalogue, session.resolver)
    template = re.sub(r"\(1 if (\{[^}]+\}) > 0 else 0\)", r"step(\1)", template)  # ReLU's slope

    def plain(qid):
        return qid[:-1] + "⁺" if qid.endswith("+") else qid

    def symbolic(qid):
        s = catalogue.symbol(qid)
        return s if read(s) == qid else plain(qid)

    def alias(qid):
        if qid.startswith("target_"):
            return "t_" + qid[len("target_"):]
        for a in session.catalogue[qid].aliases:
            if read(a) == qid and not a.endswith("+"):
                return a
        return plain(qid).replace("_", "") if read(plain(qid).replace("_", "")) == qid else plain(qid)

    def fill(name, ops):
        text = re.sub(r"\{([^}]+)\}", lambda m: name(m[1]), template)
        for a, b in ops:
            text = text.replace(a, b)
        return text

    return [fill(plain, ()),
            fill(symbolic, (("·", "*"), ("−", "-"), ("½(", "0.5*("), ("²", "^2"), ("e^(", "exp("))),
            fill(alias, (("·", "×"), ("²", "**2"), ("½", "(1/2)"), (" ", "")))]


CASES = [(name, qid) for name in SPELLED for qid, q in SESSIONS[name].catalogue.items() if not q.given]


def test_six_lessons_and_every_quantity():
    assert len({n for n, _ in CASES}) == len(SPELLED) == 6 and len(CASES) > 350


@pytest.mark.parametrize("name", SPELLED)
def test_the_definition_in_every_spelling_is_right(name):
    session = SESSIONS[name]
    wrong = []
    for qid, q in session.catalogue.items():
        if q.given:
            continue
        for text in spellings(session, q.formula):
            r = session.check_formula(qid, text)
            if r.verdict != RIGHT:
                wrong.append((qid, text, r.verdict))
    assert not wrong, wrong[:5]


def test_formulas_in_the_learners_own_names_count():
    s = SESSIONS["post"]
    for qid, text in [("dE/dw5", "delta_o1*out_h1"), ("dE/dw5", "out_h1·δ_o1"), ("dE/dw1", "delta_h1*i1"),
                      ("dE/dw1", "(dE_o1/dout_h1 + dE_o2/dout_h1)*out_h1*(1-out_h1)*i1"),
                      ("dE/dw1", "(delta_o1*w5 + delta_o2*w7)*out_h1*(1 - out_h1)*i1"),
                      ("delta_o1", "-(t_o1 - out_o1)*out_o1*(1-out_o1)"), ("dE/dw5", "(out_o1 - target_o1)"
                                                                          "*out_o1*(1-out_o1)*out_h1"),
                      ("w5", "w5 - eta*delta_o1*out_h1"), ("out_h1", "1/(1+exp(-net_h1))"),
                      ("E_total", "½(target_o1-out_o1)² + ½(target_o2-out_o2)²")]:
        r = s.check_formula(qid, text)
        assert r.verdict == RIGHT and r.how == "symbolic", (qid, text, r.verdict)


def test_a_right_formula_sympy_cannot_show_is_right_by_evaluation():
    s = SESSIONS["tanh-relu"]
    r = s.check_formula("out_h1", "step(net_h1)*net_h1")
    assert r.verdict == RIGHT and r.how == "numeric" and "random points" in r.how_text


def test_a_right_formula_at_the_wrong_level_is_told_apart():
    s = SESSIONS["post"]
    for qid, text in [("out_h1", "σ(w1*i1 + w2*i2 + b1)"),
                      ("net_o1", "w5*σ(w1*i1 + w2*i2 + b1) + w6*σ(w3*i1 + w4*i2 + b1) + b2")]:
        r = s.check_formula(qid, text)
        assert r.verdict == LEVEL and r.exit_code == 3 and "given values only" in r.level_text, (qid, text)
    assert s.check_formula("net_h1", "w1*i1 + w2*i2 + b1").verdict == RIGHT  # made of givens only


def test_a_formula_at_the_wrong_point_is_wrong_even_when_its_value_agrees():
    s = SESSIONS["post"]
    r = s.check_formula("net_h1", "w1*i1 + w2*i2 + 0.35")  # b1 written as its value: true only here
    assert r.verdict == WRONG


# (lesson, quantity, a formula with the mistake, the mistake it must be named as)
MISTAKEN = [
    ("post", "net_h1", "w1*i1 + w2*i2", "bias-left-out"),
    ("post", "out_h1", "net_h1", "no-squash"),
    ("post", "out_h1", "1/(1 + e^(net_h1))", "exponent-sign"),
    ("post", "net_h1", "w1*i1 + w3*i2 + b1", "other-numbering"),
    ("post", "E_o1", "½(10*target_o1 - out_o1)²", "target-misread"),
    ("post", "E_o1", "(target_o1 - out_o1)²", "half-dropped"),
    ("post", "E_total", "E_o1", "one-output-error"),
    ("post", "E_total", "(E_o1 + E_o2)/2", "averaged"),
    ("post", "dE/dout_o1", "target_o1 - out_o1", "slope-sign"),
    ("post", "delta_o1", "dE/dout_o1", "output-slope-forgotten"),
    ("post", "dE/dw5", "-(target_o1 - out_o1)*out_h1", "output-slope-forgotten"),
    ("post", "dout_o1/dnet_o1", "net_o1*(1 - net_o1)", "slope-from-net"),
    ("post", "dout_o1/dnet_o1", "σ(out_o1)(1 - σ(out_o1))", "slope-twice"),
    ("post", "dout_o1/dnet_o1", "1 - out_o1²", "other-activation-slope"),
    ("tanh-relu", "dout_o1/dnet_o1", "out_o1(1 - out_o1)", "other-activation-slope"),
    ("post", "out_h1", "1/(1 + 10^(-net_h1))", "base-ten"),
    ("post", "out_h1", "e^(-net_h1)", "no-reciprocal"),
    ("softmax-ce", "delta_o1", "(out_o1 - target_o1)*out_o1*(1 - out_o1)", "softmax-slope-kept"),
    ("post-bce", "dE/dout_o1", "target_o1/out_o1 - (1 - target_o1)/(1 - out_o1)", "bce-slope-sign"),
    ("post-bce", "dE/dout_o1", "out_o1 - target_o1", "bce-slope-kept"),
    ("post-bce", "E_o1", "-target_o1*ln(out_o1)", "bce-one-term"),
    ("post", "dnet_o1/dw5", "net_h1", "net-as-source"),
    ("post", "dnet_o1/dw5", "out_h2", "wrong-source"),
    ("post", "dE/dw5", "delta_o1*out_h2", "wrong-source"),
    ("post", "dE/dout_h1", "dE_o1/dout_h1", "one-path"),
    ("post", "dE/dout_h1", "(dE_o1/dout_h1 + dE_o2/dout_h1)/2", "paths-averaged"),
    ("post", "dnet_o2/dout_h1", "w5", "wrong-path-weight"),
    ("post", "dnet_o2/dout_h1", "w6", "path-weight-numbering"),
    ("post", "dnet_o2/dout_h1", "w7⁺", "updated-weights"),
    ("post", "delta_h1", "dE/dout_h1", "hidden-slope-forgotten"),
    ("post", "w5", "w5 - dE/dw5", "no-learning-rate"),
    ("post", "w5", "w5 - eta/10*dE/dw5", "eta-mistyped"),
    ("post", "w5", "w5 - 10*eta*dE/dw5", "eta-mistyped-up"),
    ("post", "E_o2", "½(target_o1 - out_o2)²", "wrong-target"),
    ("xor", "E_total", "(E_total@1 + E_total@2 + E_total@3 + E_total@4)/4", "samples-combined-wrong"),
    ("post", "dE/dw5", "dout_o1/dnet_o1 * dnet_o1/dw5", "factor-left-out"),
    ("post", "dE/dw5", "dE/dout_o1*dout_o1/dnet_o1*dout_o1/dnet_o1*dnet_o1/dw5", "factor-twice"),
    ("post", "net_o1", "w6*out_h2 + b2", "term-left-out"),
    ("post", "net_h1", "(w1*i1 + w2*i2 + b1)/3", "averaged-terms"),
    ("post", "delta_o1", "dE/dout_o1*dout_o2/dnet_o2", "wrong-neuron"),
    ("post", "dnet_o1/dw5", "w5", "weight-as-input"),
    ("post", "dE/dout_h1", "delta_o1*(w5 + w6)", "wrong-index"),
    ("post", "E_total", "½(target_o1 - out_o1 + target_o2 - out_o2)²", "error-of-sum"),
    ("post", "dE/dw5", "eta*dE/dout_o1*dout_o1/dnet_o1*dnet_o1/dw5", "eta-in-gradient"),
    ("post", "w5", "dE/dw5", "gradient-typed"),
    ("post", "w5", "eta*dE/dw5", "step-typed"),
    ("post", "w5", "w5 + eta*dE/dw5", "gradient-added"),
    ("post", "net_o1⁺", "w5⁺*out_h1 + w6⁺*out_h2 + b2", "old-outputs"),
    ("post", "net_o1⁺", "w5*out_h1⁺ + w6*out_h2⁺ + b2", "not-updated"),
]
NOT_AS_FORMULAS = {  # named for values only, and why a formula cannot show them
    "one-not-updated": "a value after the update rerun with one parameter held at its old value; in a formula "
                       "the old name in place of the new one is named as a name put where another belongs",
}


def test_every_mistake_rule_is_tried():
    tried = {m for *_, m in MISTAKEN}
    assert tried | set(NOT_AS_FORMULAS) == {m.id for m in MISTAKES}


@pytest.mark.parametrize(("name", "qid", "text", "mistake"), MISTAKEN, ids=[f"{m[3]}:{m[2]}" for m in MISTAKEN])
def test_a_mistaken_formula_is_wrong_and_named(name, qid, text, mistake):
    r = SESSIONS[name].check_formula(qid, text)
    assert r.verdict == WRONG and r.exit_code == 1
    assert mistake in [f.id for f in r.findings], [f.as_dict() for f in r.findings]


def test_the_sign_and_another_quantity_are_named():
    s = SESSIONS["post"]
    sign = s.check_formula("dE/dw5", "-delta_o1*out_h1")
    assert [f.id for f in sign.findings] in (["sign"], ["slope-sign"])
    assert [f.id for f in s.check_formula("out_h1", "-σ(net_h1)").findings] == ["sign"]
    convention = s.check_formula("delta_o1", "(target_o1 - out_o1)*out_o1*(1 - out_o1)")
    assert "delta-sign" in [f.id for f in convention.findings]
    other = s.check_formula("out_o1", "σ(net_o2)")
    assert [f.id for f in other.findings] == ["other-quantity"] and "out_o2" in other.findings[0].text


def test_what_is_missing_is_named_and_drawn(cli):
    result = cli("check", "dE/dw5", "dE/dout_o1 * dnet_o1/dw5")
    assert result.exit_code == 1
    out = result.stdout
    assert "missing factor:" in out and "slope of the output neuron" in out
    drawn = out[out.index("missing factor:"):].splitlines()[1:4]
    assert "∂outₒ₁" in drawn[0] and "─" in drawn[1] and "∂netₒ₁" in drawn[2]
    term = SESSIONS["post"].check_formula("E_total", "E_o2")
    assert term.diagnosis.missing == ("term", "E_o1")


def test_the_formula_read_is_echoed_in_2d(cli):
    result = cli("check", "out_o1", "1/(1+e^(-net_o1))")
    assert result.exit_code == 0 and "right formula" in result.stdout
    lines = result.stdout.splitlines()
    k = next(i for i, line in enumerate(lines) if "What I read" in line)
    assert "─" in "".join(lines[k + 1:k + 6]) and "net" in "".join(lines[k + 1:k + 6])


def test_json_carries_the_formula_the_verdict_and_the_diagnosis(cli):
    right = json.loads(cli("check", "dE/dw5", "delta_o1*out_h1", "--json").stdout)
    assert right["answer"] == "formula" and right["verdict"] == "right" and right["how"] == "symbolic"
    assert right["formula_read"] == "δ_o1·out_h1" and "\\delta" in right["formula_latex"]
    assert right["exit_code"] == 0 and right["points"] == 5
    wrong = json.loads(cli("check", "dE/dw5", "dE/dout_o1*dnet_o1/dw5", "--json").stdout)
    assert wrong["verdict"] == "wrong" and wrong["diagnosis"][0]["id"] == "output-slope-forgotten"
    assert wrong["missing"] == {"what": "factor", "quantity": "dout_o1/dnet_o1"}
    level = json.loads(cli("check", "out_h1", "σ(w1*i1 + w2*i2 + b1)", "--json").stdout)
    assert level["verdict"] == "right-level" and level["exit_code"] == 3 and "net_h1" in level["level"]


def test_a_formula_check_does_not_touch_the_progress_file_but_a_value_does(cli):
    import os

    from backprop_tutor.progress import home

    assert cli("check", "dE/dw5", "delta_o1*out_h1").exit_code == 0
    assert not os.path.exists(home() / "post.json") or "dE_total/dw5" not in (home() / "post.json").read_text()
    assert cli("check", "dE/dw5", "0.082167041").exit_code == 0


def test_circular_formulas_are_refused():
    s = SESSIONS["post"]
    for qid, text, why in [("dE/dw5", "dE/dw5", "the quantity itself"),
                           ("dE/dw5", "(w5 - w5⁺)/eta", "computed from"),
                           ("out_o1", "out_o1⁺", "computed from")]:
        with pytest.raises(Exception) as e:
            s.check_formula(qid, text)
        assert why in str(e.value) and e.value.exit_code == 2


def test_a_right_formula_too_big_to_multiply_out_is_left_to_the_numbers():
    s = SESSIONS["post"]
    big = "(out_h1+out_h2+i1+i2+w1+w2+w3+w4)^8"
    r = s.check_formula("dE/dw5", f"{big}*(1+w5)^2 - {big}*(1+2*w5+w5^2) + delta_o1*out_h1")
    assert r.verdict == RIGHT and r.how == "numeric"
    small = s.check_formula("dE/dw5", "(out_h1+w5)^2 - out_h1^2 - 2*out_h1*w5 - w5^2 + delta_o1*out_h1")
    assert small.verdict == RIGHT and small.how == "symbolic"


def test_a_name_in_place_of_another_is_named_and_drawn(cli):
    s = SESSIONS["post"]
    for qid, text, swap in [("dE/dw1", "(delta_o1*w5 + delta_o2*w6)*out_h1*(1 - out_h1)*i1", ("w6", "w7")),
                            ("dE/dw5", "delta_o1*out_h2", ("out_h2", "out_h1")),
                            ("E_o2", "½(target_o1 - out_o2)²", ("target_o1", "target_o2")),
                            ("delta_o1", "dE/dout_o1*dout_o2/dnet_o2", ("dout_o2/dnet_o2", "dout_o1/dnet_o1"))]:
        assert s.check_formula(qid, text).diagnosis.replaced == swap, (qid, text)
    result = cli("check", "dE/dw5", "delta_o1*out_h2")
    assert "in place of what belongs there:" in result.stdout and "outₕ₂ → outₕ₁" in result.stdout
    data = json.loads(cli("check", "dE/dw5", "delta_o1*out_h2", "--json").stdout)
    assert data["replaced"] == {"typed": "out_h2", "meant": "out_h1"}
