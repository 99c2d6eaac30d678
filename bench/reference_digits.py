"""Every digit that `key` and `check` show, on random lessons, against an independent 50-digit reference.

    python bench/reference_digits.py [--lessons 250] [--start 0]

The reference (tests/reference_digits.py) is written from the definitions in fractions and mpmath,
not from the engine; the lessons go through the lesson loader, ten kinds of them in turn, among them
saturated neurons, huge and tiny weights, ReLU kinks at exactly 0, exact zeros, softmax-ce with
trained biases, several samples (sum and mean), deep networks, tanh and identity, by-sender numbering.
Prints the quantities and strings compared and every mismatch; exits 1 if there is one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reference_digits import Comparison, compare, random_lessons

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--lessons", type=int, default=250)
parser.add_argument("--start", type=int, default=0, help="the first seed")
args = parser.parse_args()

result = Comparison()
kinds: Counter[str] = Counter()
start = time.perf_counter()
for lesson in random_lessons(args.lessons, args.start):
    kinds[lesson.title.split()[1]] += 1
    compare(lesson, result)
elapsed = time.perf_counter() - start
print(f"{result.lessons} lessons ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
print(f"{result.quantities:,} quantities, {result.shown:,} shown values compared "
      f"(the post's digits and 15 significant), {result.zeros:,} of them exactly 0")
print(f"{len(result.mismatches)} mismatches in {elapsed:.1f} s")
for line in result.mismatches[:50]:
    print("  " + line)
sys.exit(1 if result.mismatches else 0)
