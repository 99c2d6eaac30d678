"""How long a learner waits in `backprop-tutor start`.

1. Launch to the first prompt (a fresh lesson: introduction, diagram, first step, with the derivation
   cache warm, as on every start after the first), against the whole-process time of a one-command
   Typer app. Paired runs in alternating order, median of the per-pair ratios. Target: <= 1.5x.
   (`--cold` measures a first start instead, against a Typer app that imports SymPy: the old target,
   1.3x.)
2. Feedback: from pressing Enter on an answer to the next prompt, over the first steps of the
   lesson (right answers, a wrong one, a hint). Target: every one within 0.1 s.

Run it in the environment the tutor is installed in:  python bench/start.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

sys.path.insert(0, str(Path(__file__).parent))

from _paired import BASELINE_TYPER, baseline_script, tutor_command, wall

BASELINE_SYMPY = BASELINE_TYPER.replace("import typer\n", "import sympy\nimport typer\n")
ANSWERS = [("net_h1", "0.3775"), ("out_h1", "0.7"), ("out_h1", "hint"), ("out_h1", "0.593269992"),
           ("net_h2", "0.3925"), ("out_h2", "0.596884378"), ("net_o1", "1.105905967"), ("out_o1", "0.75136507")]


CACHE = tempfile.mkdtemp()  # the derivation cache, shared by the runs (each has its own progress)


def spawn(home: str) -> pexpect.spawn:
    cmd = tutor_command("start")
    env = {**os.environ, "BACKPROP_TUTOR_HOME": home, "NO_COLOR": "1", "TERM": "xterm"}
    return pexpect.spawn(cmd[0], cmd[1:], env=env, dimensions=(40, 100), encoding="utf-8", timeout=60)


def to_first_prompt() -> float:
    with tempfile.TemporaryDirectory() as home:
        if not args.cold:
            os.symlink(CACHE, Path(home) / "cache")
        start = time.perf_counter()
        child = spawn(home)
        child.expect("\r\nnet_h1 = ")
        elapsed = time.perf_counter() - start
        child.terminate(force=True)
    return elapsed


def feedback_times() -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as home:
        child = spawn(home)
        child.expect("\r\nnet_h1 = ")
        for k, (_, typed) in enumerate(ANSWERS):
            nxt = ANSWERS[k + 1][0] if k + 1 < len(ANSWERS) else "net_o2"
            start = time.perf_counter()
            child.sendline(typed)
            child.expect(f"\r\n{nxt} = ")
            times.append(time.perf_counter() - start)
        child.terminate(force=True)
    return times


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=20)
parser.add_argument("--cold", action="store_true", help="no derivation cache: every start is a first one")
args = parser.parse_args()
base = baseline_script(BASELINE_SYMPY if args.cold else BASELINE_TYPER)
target = 1.3 if args.cold else 1.5
for _ in range(2):
    to_first_prompt(), wall(base)
ratios, ours, theirs = [], [], []
for k in range(args.rounds):
    if k % 2:
        b, c = wall(base), to_first_prompt()
    else:
        c, b = to_first_prompt(), wall(base)
    ours.append(c)
    theirs.append(b)
    ratios.append(c / b)
ratio = statistics.median(ratios)
print("start: launch to the first prompt")
print(f"  median {statistics.median(ours) * 1000:.0f} ms vs baseline ({'Typer + SymPy' if args.cold else 'Typer'}, "
      f"whole process) {statistics.median(theirs) * 1000:.0f} ms over {args.rounds} paired runs")
print(f"  median ratio {ratio:.2f}x (target <= {target}x): {'OK' if ratio <= target else 'OVER'}")
all_times = [t for _ in range(3) for t in feedback_times()]
worst = max(all_times)
print(f"feedback: answer to next prompt over {len(all_times)} answers: median "
      f"{statistics.median(all_times) * 1000:.0f} ms, slowest {worst * 1000:.0f} ms "
      f"(target <= 100 ms): {'OK' if worst <= 0.1 else 'OVER'}")
