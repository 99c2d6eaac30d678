"""Time and peak memory of every command on the biggest lessons the format allows.

* `verify` and `lesson-check` on 16-16-16 and on 5×16 (16 inputs, five hidden layers of 16, 16 outputs),
  one sample, and on 64 samples × 5×16. Target: 10 s or less each.
* check (a right and a wrong answer), start (to the first prompt, piped), key, explain, what-if,
  quantities, progress and lessons on 64 samples × 5×16. Target: 2 s and 300 MB or less each.

The lessons are generated (random round numbers from a seed) in a temporary folder. Each command runs
as its own process; the figure is the median wall time of --rounds runs and the largest peak RSS.
A command still running after --timeout seconds is stopped and shown as "> timeout".
Run it in the environment the tutor is installed in:  python bench/big.py [--rounds N] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))

from _paired import tutor_command
from biglesson import write


def measure(cmd: list[str], env: dict[str, str], stdin: str, timeout: float) -> tuple[float | None, float]:
    """Wall seconds (None after the timeout) and peak resident MB of one process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env, start_new_session=True)
    assert p.stdin is not None
    try:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    except BrokenPipeError:
        pass
    deadline = start + timeout
    while True:
        pid, _, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            return time.perf_counter() - start, usage.ru_maxrss / 1024
        if time.perf_counter() > deadline:
            os.killpg(p.pid, signal.SIGKILL)
            _, _, usage = os.wait4(p.pid, 0)
            return None, usage.ru_maxrss / 1024
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--only", help="run only the commands whose label contains this")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    wide = write(folder / "16-16-16.toml", [16, 16, 16], seed=1)
    deep = write(folder / "5x16.toml", [16] * 7, seed=2)
    big = write(folder / "64x5x16.toml", [16] * 7, samples=64, seed=3)
    cases = [
        ("verify 16-16-16", ["verify", "--lesson", str(wide)], "", 10, None),
        ("verify 5x16", ["verify", "--lesson", str(deep)], "", 10, None),
        ("lesson-check 16-16-16", ["lesson-check", str(wide)], "", 10, None),
        ("lesson-check 5x16", ["lesson-check", str(deep)], "", 10, None),
    ]
    cases += [("verify 64x5x16", ["verify", "--lesson", str(big)], "", 10, None),
              ("lesson-check 64x5x16", ["lesson-check", str(big)], "", 10, None)]
    on = ["--lesson", str(big)]
    for label, command, stdin in [
        ("check right", ["check", "net_h1@1", "0", *on], ""),  # the value does not matter for the time
        ("check wrong", ["check", "w5", "123.456", *on], ""),
        ("start (piped, to the first prompt)", ["start", *on], ""),
        ("key", ["key", *on], ""), ("explain", ["explain", "dE/dw1", *on], ""),
        ("diagram", ["diagram", "--step", "dE/dw1", *on], ""),
        ("what-if", ["what-if", "w5=0.5", *on], ""), ("quantities", ["quantities", *on], ""),
        ("progress", ["progress", *on], ""), ("lessons", ["lessons"], ""),
    ]:
        cases.append((f"{label} 64x5x16", command, stdin, 2, 300))
    # the same size with a softmax output layer, cross-entropy and trained biases (an exact 0 in every sample)
    ce = write(folder / "64x5x16-ce.toml", [16] * 7, samples=64, seed=5, loss="cross-entropy", train_biases=True)
    for label, command in [("check wrong", ["check", "w5", "123.456"]), ("check E_total+", ["check", "E_total+", "1"]),
                           ("key", ["key"]), ("what-if", ["what-if", "w5=0.5"]), ("start", ["start"])]:
        cases.append((f"{label} 64x5x16 softmax-ce", [*command, "--lesson", str(ce)], "", 2, 300))
    print("command                                        median s   peak MB   target")
    for label, command, stdin, seconds, mb in cases:
        if args.only and args.only not in label:
            continue
        times, peaks = [], []
        for _ in range(args.rounds):
            home = tempfile.mkdtemp()
            env = {**os.environ, "BACKPROP_TUTOR_HOME": home, "NO_COLOR": "1", "COLUMNS": "100"}
            took, peak = measure(tutor_command(*command), env, stdin, args.timeout)
            times.append(took)
            peaks.append(peak)
            if took is None:
                break
        done = [t for t in times if t is not None]
        shown = f"{statistics.median(done):8.2f}" if len(done) == len(times) else f"> {args.timeout:.0f}".rjust(8)
        ok = len(done) == len(times) and statistics.median(done) <= seconds and (mb is None or max(peaks) <= mb)
        target = f"<= {seconds} s" + (f", {mb} MB" if mb else "")
        print(f"{label:<45} {shown}   {max(peaks):7.0f}   {target}: {'OK' if ok else 'OVER'}", flush=True)


if __name__ == "__main__":
    main()
