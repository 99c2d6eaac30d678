"""Whole-process wall time of `backprop-tutor explain dE/dw1` against a one-command Typer app that
imports SymPy (the floor for any command that draws equations with it).

Run it in the environment the tutor is installed in:  python bench/explain.py [--rounds N]
Paired runs (alternating order), median of the per-pair ratios. Target: <= 1.3x.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _paired import BASELINE_TYPER, baseline_script, compare, tutor_command

BASELINE_SYMPY = BASELINE_TYPER.replace("import typer\n", "import sympy\nimport typer\n")

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=30)
args = parser.parse_args()
compare("explain", tutor_command("explain", "dE/dw1"), baseline_script(BASELINE_SYMPY), args.rounds, 1.3)
