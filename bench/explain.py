"""Whole-process wall time of `backprop-tutor explain dE/dw1` against a one-command Typer app, with
the derivation cache warm (every explain of a bundled lesson after the first). Target: <= 1.5x.
`--cold` measures it without the cache against a Typer app that imports SymPy (the floor for any
command that draws equations with it): the old target, 1.3x.

Run it in the environment the tutor is installed in:  python bench/explain.py [--rounds N] [--cold]
Paired runs (alternating order), median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _paired import BASELINE_TYPER, baseline_script, compare, tutor_command

BASELINE_SYMPY = BASELINE_TYPER.replace("import typer\n", "import sympy\nimport typer\n")

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=30)
parser.add_argument("--cold", action="store_true", help="no derivation cache")
args = parser.parse_args()
home = tempfile.mkdtemp()
os.environ["BACKPROP_TUTOR_HOME"] = home
if args.cold:
    os.symlink(os.devnull, Path(home) / "cache")  # not a directory: nothing is cached
    compare("explain (no cache)", tutor_command("explain", "dE/dw1"), baseline_script(BASELINE_SYMPY), args.rounds,
            1.3)
else:
    compare("explain (cache warm)", tutor_command("explain", "dE/dw1"), baseline_script(), args.rounds, 1.5)
