"""How fast `backprop-tutor train --compare` is, against the separate `train` runs it stands for.

1. Update time, in the process: the four runs of `train --compare lr=0.1,0.5,1,5 -n 10000` (each
   trained by ``compare.run_variant``, the loop `train` picks, the compare's own divergence bound
   and sampled curve) against four `train --lr X -n 10000` runs' training (``training.run_schedule``
   on the same loop, as `train` calls it). Paired: the two alternate, each the best of 3, and the
   ratio is the median over the pairs. Target: <= 1.5x.
2. Whole processes: `train --compare lr=0.1,0.5,1,5 -n 10000` against the four `train --lr X -n 10000`
   commands run one after the other (start-up, table and plot included), paired. The compare pays
   one start-up for four runs, so this ratio is below 1.
3. The same with `--csv` (every update of every run written) against four `train --csv` runs.

The machine may be shared: the figures are noisy; the pairing keeps the ratios fair.
    python bench/compare.py [--rounds N] [--updates N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _paired import tutor_command, wall

from backprop_tutor.compare import plan, run_variant
from backprop_tutor.lesson import load
from backprop_tutor.training import make_loop, run_schedule

RATES = ("0.1", "0.5", "1", "5")


def compared(updates: int) -> float:
    variants = plan("lr=" + ",".join(RATES), load()).variants
    start = time.perf_counter()
    for v in variants:
        run_variant(v, updates)
    return time.perf_counter() - start


def separate(updates: int) -> float:
    net = load().network
    start = time.perf_counter()
    for rate in RATES:
        run_schedule(make_loop(net, float(rate)), updates)
    return time.perf_counter() - start


def paired(name: str, ours, theirs, rounds: int, target: float | None, best_of: int = 1) -> float:
    ratios, mine, base = [], [], []
    ours(), theirs()  # warm up
    for k in range(rounds):
        a = b = float("inf")
        for j in range(best_of):
            if (j + k) % 2:
                b, a = min(b, theirs()), min(a, ours())
            else:
                a, b = min(a, ours()), min(b, theirs())
        mine.append(a)
        base.append(b)
        ratios.append(a / b)
    ratio = statistics.median(ratios)
    verdict = "" if target is None else f" (target <= {target:g}x): {'OK' if ratio <= target else 'OVER'}"
    print(f"  {name:<44} {statistics.median(mine) * 1000:8.1f} ms vs {statistics.median(base) * 1000:8.1f} ms "
          f"= {ratio:5.2f}x{verdict}", flush=True)
    return ratio


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=9, help="pairs for each figure")
parser.add_argument("--updates", type=int, default=10_000, help="updates of each run")
args = parser.parse_args()
n = args.updates

print(f"4 runs of {n:,} updates (lr = {', '.join(RATES)}) on the post's network; median over {args.rounds} pairs:")
paired("update time: --compare vs 4 separate runs", lambda: compared(n), lambda: separate(n), args.rounds, 1.5,
       best_of=3)

compare_cmd = tutor_command("train", "--compare", "lr=" + ",".join(RATES), "-n", str(n))
singles = [tutor_command("train", "--lr", rate, "-n", str(n)) for rate in RATES]
paired("whole processes: 1 --compare vs 4 train", lambda: wall(compare_cmd),
       lambda: sum(wall(c) for c in singles), args.rounds, None)

folder = Path(tempfile.mkdtemp())
compare_csv = [*compare_cmd, "--csv", str(folder / "all.csv")]
singles_csv = [[*c, "--csv", str(folder / f"{k}.csv")] for k, c in enumerate(singles)]
paired("with --csv of every update: 1 vs 4", lambda: wall(compare_csv),
       lambda: sum(wall(c) for c in singles_csv), args.rounds, None)
