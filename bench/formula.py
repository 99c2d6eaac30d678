"""Whole-process wall time of `backprop-tutor check NAME "FORMULA"` against `backprop-tutor explain NAME`
of the same quantity: judging a typed formula (reading it, the engine at five points, SymPy's algebra,
the 2-D echo) should cost no more than deriving the quantity.

Run it in the environment the tutor is installed in:  python bench/formula.py [--rounds N]
Paired runs (alternating order), median of the per-pair ratios. Target: <= 1.3x for each case.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _paired import compare, tutor_command

CASES = [  # (quantity, a right formula, a wrong one: the wrong one is diagnosed with the mistake rules)
    ("dE/dw5", "-(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1", "-(target_o1 - out_o1)*out_h1"),
    ("dE/dw1", "(delta_o1*w5 + delta_o2*w7)*out_h1*(1 - out_h1)*i1",
     "(delta_o1*w5 + delta_o2*w6)*out_h1*(1 - out_h1)*i1"),
]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=20)
args = parser.parse_args()
os.environ["BACKPROP_TUTOR_HOME"] = tempfile.mkdtemp()  # no progress files of the person running it
worst = 0.0
for name, right, wrong in CASES:
    for formula in (right, wrong):
        ratio = compare(f"check {name} (formula)", tutor_command("check", name, formula),
                        tutor_command("explain", name), args.rounds, 1.3)
        worst = max(worst, ratio)
print(f"worst median ratio {worst:.2f}x (target <= 1.3x): {'OK' if worst <= 1.3 else 'OVER'}")
