"""Whole-process wall time of `backprop-tutor check w5 0.3589` against a one-command Typer app.

Run it in the environment the tutor is installed in:  python bench/startup.py [--rounds N]
Paired runs (alternating order), median of the per-pair ratios. Target: <= 1.25x.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _paired import baseline_script, compare, tutor_command

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=40)
args = parser.parse_args()
compare("check", tutor_command("check", "w5", "0.3589"), baseline_script(), args.rounds, 1.25)
