"""A simulated class for the instructor tests: the post's 2-2-2 network worked out here, independently of
the engine, with mistake rules written from the definitions.

A student works the sheet in order; at the steps where they make a mistake, the rule replaces the right
formula; every later value is computed from the student's own earlier values (so a slip is carried).
"""

from __future__ import annotations

import math
from collections.abc import Callable

Values = dict[str, float]


def sigma(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# each step: (id, formula from the values so far); the lesson's order
def _steps() -> list[tuple[str, Callable[[Values], float]]]:
    s: list[tuple[str, Callable[[Values], float]]] = []
    into = {"h1": ("w1", "w2"), "h2": ("w3", "w4"), "o1": ("w5", "w6"), "o2": ("w7", "w8")}
    for h in ("h1", "h2"):
        a, b = into[h]
        s.append((f"net_{h}", lambda v, a=a, b=b: v[a] * v["i1"] + v[b] * v["i2"] + v["b1"]))
        s.append((f"out_{h}", lambda v, h=h: sigma(v[f"net_{h}"])))
    for o in ("o1", "o2"):
        a, b = into[o]
        s.append((f"net_{o}", lambda v, a=a, b=b: v[a] * v["out_h1"] + v[b] * v["out_h2"] + v["b2"]))
        s.append((f"out_{o}", lambda v, o=o: sigma(v[f"net_{o}"])))
    for o in ("o1", "o2"):
        s.append((f"E_{o}", lambda v, o=o: 0.5 * (v[f"target_{o}"] - v[f"out_{o}"]) ** 2))
    s.append(("E_total", lambda v: v["E_o1"] + v["E_o2"]))
    for o in ("o1", "o2"):
        s.append((f"dE_total/dout_{o}", lambda v, o=o: -(v[f"target_{o}"] - v[f"out_{o}"])))
        s.append((f"dout_{o}/dnet_{o}", lambda v, o=o: v[f"out_{o}"] * (1 - v[f"out_{o}"])))
        for k, (w, h) in enumerate(zip(into[o], ("h1", "h2"), strict=True)):
            s.append((f"dnet_{o}/d{w}", lambda v, h=h: v[f"out_{h}"]))
            s.append((f"dE_total/d{w}", lambda v, o=o, w=w: v[f"dE_total/dout_{o}"] * v[f"dout_{o}/dnet_{o}"]
                      * v[f"dnet_{o}/d{w}"]))
            if k == 0:  # the post's order: the product of the factors first, then δ as the name of two of them
                s.append((f"delta_{o}", lambda v, o=o: v[f"dE_total/dout_{o}"] * v[f"dout_{o}/dnet_{o}"]))
            s.append((f"{w}+", lambda v, w=w: v[w] - v["eta"] * v[f"dE_total/d{w}"]))
    for h, k in (("h1", 0), ("h2", 1)):
        for o in ("o1", "o2"):
            w = into[o][k]
            s.append((f"dnet_{o}/dout_{h}", lambda v, w=w: v[w]))
            s.append((f"dE_{o}/dout_{h}", lambda v, o=o, h=h: v[f"delta_{o}"] * v[f"dnet_{o}/dout_{h}"]))
        s.append((f"dE_total/dout_{h}", lambda v, h=h: v[f"dE_o1/dout_{h}"] + v[f"dE_o2/dout_{h}"]))
        s.append((f"dout_{h}/dnet_{h}", lambda v, h=h: v[f"out_{h}"] * (1 - v[f"out_{h}"])))
        for k, (w, i) in enumerate(zip(into[h], ("i1", "i2"), strict=True)):
            s.append((f"dnet_{h}/d{w}", lambda v, i=i: v[i]))
            s.append((f"dE_total/d{w}", lambda v, h=h, w=w: v[f"dE_total/dout_{h}"] * v[f"dout_{h}/dnet_{h}"]
                      * v[f"dnet_{h}/d{w}"]))
            if k == 0:
                s.append((f"delta_{h}", lambda v, h=h: v[f"dE_total/dout_{h}"] * v[f"dout_{h}/dnet_{h}"]))
            s.append((f"{w}+", lambda v, w=w: v[w] - v["eta"] * v[f"dE_total/d{w}"]))
    for h in ("h1", "h2"):
        a, b = into[h]
        s.append((f"net_{h}+", lambda v, a=a, b=b: v[a + "+"] * v["i1"] + v[b + "+"] * v["i2"] + v["b1"]))
        s.append((f"out_{h}+", lambda v, h=h: sigma(v[f"net_{h}+"])))
    for o in ("o1", "o2"):
        a, b = into[o]
        s.append((f"net_{o}+", lambda v, a=a, b=b: v[a + "+"] * v["out_h1+"] + v[b + "+"] * v["out_h2+"] + v["b2"]))
        s.append((f"out_{o}+", lambda v, o=o: sigma(v[f"net_{o}+"])))
    for o in ("o1", "o2"):
        s.append((f"E_{o}+", lambda v, o=o: 0.5 * (v[f"target_{o}"] - v[f"out_{o}+"]) ** 2))
    s.append(("E_total+", lambda v: v["E_o1+"] + v["E_o2+"]))
    return s


STEPS = _steps()
# the steps a sheet asks for: what a weight multiplies is asked once per layer (it is a value already known)
SHOWN = {"dnet_o1/dw6", "dnet_o2/dw7", "dnet_o2/dw8", "dnet_h1/dw2", "dnet_h2/dw3", "dnet_h2/dw4",
         "dnet_o2/dout_h1", "dnet_o1/dout_h2", "dnet_o2/dout_h2"}
ASKED = [q for q, _ in STEPS if q not in SHOWN]

# mistake rules, from the definitions: (mistake id, step, the wrong formula)
RULES: dict[str, tuple[str, Callable[[Values], float]]] = {
    "bias-left-out": ("net_h1", lambda v: v["w1"] * v["i1"] + v["w2"] * v["i2"]),
    "wrong-target": ("E_o2", lambda v: 0.5 * (v["target_o1"] - v["out_o2"]) ** 2),
    "one-path": ("dE_total/dout_h1", lambda v: v["dE_o1/dout_h1"]),
    "gradient-added": ("w6+", lambda v: v["w6"] + v["eta"] * v["dE_total/dw6"]),
    "updated-weights": ("dE_o1/dout_h2", lambda v: v["delta_o1"] * v["w6+"]),
}


def sheet(given: Values, mistakes: tuple[str, ...] = ()) -> tuple[Values, Values]:
    """A student's values (every step, from their own earlier values) and the right ones."""
    at = {RULES[m][0]: RULES[m][1] for m in mistakes}
    mine, right = dict(given), dict(given)
    for q, f in STEPS:
        right[q] = f(right)
        mine[q] = at[q](mine) if q in at else f(mine)
    return mine, right
