"""Paired whole-process timings: run two commands alternately and report the median ratio."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE_TYPER = '''
import typer

app = typer.Typer()


@app.command()
def main() -> None:
    print("hello")


app()
'''


def tutor_command(*args: str) -> list[str]:
    """The installed console script beside this Python, or `python -m backprop_tutor`."""
    script = Path(sys.executable).with_name("backprop-tutor")
    if script.exists():
        return [str(script), *args]
    found = shutil.which("backprop-tutor")
    return [found, *args] if found else [sys.executable, "-m", "backprop_tutor", *args]


def baseline_script(source: str = BASELINE_TYPER) -> list[str]:
    path = Path(tempfile.mkdtemp()) / "baseline.py"
    path.write_text(source)
    return [sys.executable, str(path)]


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start


def compiled() -> None:
    """The package's .pyc files, as `pip install .` writes them. An editable install under
    PYTHONDONTWRITEBYTECODE (set on some machines) would compile every module on every run."""
    import compileall

    import backprop_tutor

    compileall.compile_dir(Path(backprop_tutor.__file__).parent, quiet=1)


def compare(name: str, cmd: list[str], base: list[str], rounds: int, target: float) -> float:
    compiled()
    for _ in range(3):  # warm the file cache and .pyc files
        wall(cmd), wall(base)
    ratios, ours, theirs = [], [], []
    for k in range(rounds):
        if k % 2:
            b, c = wall(base), wall(cmd)
        else:
            c, b = wall(cmd), wall(base)
        ours.append(c)
        theirs.append(b)
        ratios.append(c / b)
    ratio = statistics.median(ratios)
    print(f"{name}: {' '.join(cmd[-4:])}")
    print(f"  median wall time {statistics.median(ours) * 1000:.0f} ms vs baseline "
          f"{statistics.median(theirs) * 1000:.0f} ms over {rounds} paired runs")
    print(f"  median ratio {ratio:.2f}x (target <= {target}x): {'OK' if ratio <= target else 'OVER'}")
    return ratio
