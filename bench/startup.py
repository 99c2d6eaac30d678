"""Whole-process wall time of `backprop-tutor check w5 0.3589` against a one-command Typer app.

Run it in the environment the tutor is installed in:  python bench/startup.py [--rounds N]
Paired runs (alternating order), median of the per-pair ratios. Target: <= 1.15x.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _paired import BASELINE_TYPER, baseline_script, compare, tutor_command

# The same app with check's arguments: Typer 0.29 builds a pydantic TypeAdapter per parameter, and the
# first one costs about 50 ms (pydantic's schema machinery) that an app without parameters never pays.
BASELINE_WITH_PARAMETERS = BASELINE_TYPER.replace(
    "def main() -> None:", "def main(name: str, value: str, lesson: str | None = None, seed: int | None = None,\n"
    "         json: bool = False) -> None:")

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=40)
parser.add_argument("--with-parameters", action="store_true",
                    help="also against a one-command Typer app that takes check's kinds of parameters")
args = parser.parse_args()
compare("check", tutor_command("check", "w5", "0.3589"), baseline_script(), args.rounds, 1.15)
if args.with_parameters:
    base = baseline_script(BASELINE_WITH_PARAMETERS)
    compare("check vs an app with parameters", tutor_command("check", "w5", "0.3589"), [*base, "w5", "0.3589"],
            args.rounds, 1.15)
