"""`grade` of a class: 300 students × 57 answers, each on its own seed (30 seeds), about half with a slip.

Prints the time (goal: ≤ 10 s for 300) and the CSV it graded, for `backprop-tutor grade` by hand.
With MEMORY=1, also the peak memory Python allocated (tracemalloc, which slows it down several times);
`/usr/bin/time -f %M` gives the resident size without that cost.

    python bench/grade.py [STUDENTS]
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from classroom import ASKED, RULES, sheet

from backprop_tutor import grading
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load, randomized


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    lesson, rng = load("post"), random.Random(1)
    path = os.path.join(tempfile.mkdtemp(), "answers.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "seed", "quantity", "value"])
        for k in range(n):
            seed = k % 30 + 1
            given = {q: v for q, v in Session(randomized(lesson, seed)).trace.items()
                     if q in ("i1", "i2", "target_o1", "target_o2", "b1", "b2", "eta") or q[1:].isdigit()}
            mistakes = tuple(rng.sample(sorted(RULES), 1)) if rng.random() < 0.5 else ()
            mine, _ = sheet(given, mistakes)
            for q in ASKED:
                writer.writerow([f"s{k}", seed, q, f"{mine[q]:.9g}"])
    if os.environ.get("MEMORY"):
        tracemalloc.start()
    start = time.perf_counter()
    problems: list[str] = []
    grader = grading.Grader(lesson)
    report = grading.ClassReport(grader.order)
    out = grading.Outputs(os.path.join(os.path.dirname(path), "out"), "post")
    for s in grading.sheets(grader, grading.read_rows(open(path, newline=""), problems), problems):
        report.add(s)
        out.add(s)
    out.close(report)
    took = time.perf_counter() - start
    memory = f", peak {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB allocated" if tracemalloc.is_tracing() else ""
    print(f"grade: {n} students × {len(ASKED)} answers in {took:.2f} s ({took / n * 1000:.1f} ms a student)"
          f"{memory}; problems: {len(problems)}. The answers: {path}")


if __name__ == "__main__":
    main()
