"""`train --compare`: several runs of one lesson side by side.

A spec names one thing to vary and its values: ``lr=0.1,0.5,1,5`` (the learning rate),
``biases=none,fixed,trained,per-neuron``, ``hidden=1,2,4,8`` (the size of the one hidden layer,
each with fresh weights from a stated seed) or ``init=lesson,seed:1..5`` (the starting weights and
biases: the lesson's own, or fresh ones drawn from each seed as ``--random`` draws them).
``variants`` turns a spec into one network per run; ``run_variant`` trains one with the loop that
`train` itself picks (``training.make_loop``) and the same stepping (``training.history``), so a
run's numbers are those of a single `train` run with the same options, to the last bit.

A run that diverges — E_total, or a parameter, no longer a finite number, or E_total above
``DIVERGED_FACTOR`` times its start — stops there and says at which update; the others go on.
Nothing kept grows with the number of updates: each run keeps its sampled loss curve
(``training.Schedule``) and the --csv rows are written as they come.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from backprop_tutor.errors import TutorError
from backprop_tutor.lesson import MAX_NEURONS, Lesson, fresh_start
from backprop_tutor.names import Layout
from backprop_tutor.network import Network
from backprop_tutor.safe_text import echo, printable
from backprop_tutor.seeds import MAX_SEED
from backprop_tutor.training import Diverged, Point, Schedule, history, make_loop, multiply_adds
from backprop_tutor.updates import Updates

if TYPE_CHECKING:
    from backprop_tutor.render import Out

KEYS = ("lr", "biases", "hidden", "init")
BIASES = ("none", "fixed", "trained", "per-neuron")
MAX_RUNS = 10
MAX_TOTAL_UPDATES = 10_000_000  # the updates of all the runs together (train's own limit for one run)
MAX_SPEC = 200  # characters
DIVERGED_FACTOR = 1e6  # E_total this many times its start is taken as diverged (a logistic output never gets there)
BAR_AFTER = 2_400_000  # multiply-adds of all the runs: a progress bar on a terminal (as `train`'s)
DEFAULT_SEED = 1  # of hidden='s fresh weights, when the lesson has none of its own (--random/--seed)
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?")
_SEED = re.compile(r"seed:([0-9]{1,12})(?:\.\.([0-9]{1,12}))?")


class BadSpec(TutorError):
    def __init__(self, spec: str, problem: str):
        super().__init__(f"--compare {echo(spec, 40)}: {problem}")


@dataclass(frozen=True)
class Variant:
    """One run of a comparison: its label, its network and its learning rate (None: the network's)."""

    label: str
    net: Network
    learning_rate: float | None = None


@dataclass(frozen=True)
class Plan:
    key: str
    variants: list[Variant]
    seed: int | None = None  # the seed of hidden='s fresh weights


def plan(spec: str, lesson: Lesson, *, learning_rate: float | None = None, update_biases: bool = False) -> Plan:
    """The runs a spec asks for on this lesson; a bad spec is one TutorError line (exit 2)."""
    if len(spec) > MAX_SPEC:
        raise BadSpec(spec, f"is {len(spec):,} characters long; a spec has at most {MAX_SPEC}")
    key, equals, text = spec.partition("=")
    key = key.strip()
    if not equals or key not in KEYS:
        raise BadSpec(spec, "expected KEY=VALUES with KEY one of " + ", ".join(KEYS)
                      + " (e.g. lr=0.1,0.5,1,5)")
    values = [v.strip() for v in text.split(",")]
    if not text.strip() or not all(values):
        raise BadSpec(spec, f"expected values after {key}=, separated by commas")
    if key == "lr" and learning_rate is not None:
        raise BadSpec(spec, "compares learning rates; leave out --lr")
    if key == "biases" and update_biases:
        raise BadSpec(spec, "compares biases; leave out --update-biases")
    net = lesson.network
    if update_biases:
        net = dataclasses.replace(net, train_biases=True)
    seed = None
    if key == "lr":
        variants = [Variant(f"lr={_short(rate)}", net, rate) for rate in _rates(spec, values)]
    elif key == "biases":
        variants = [Variant(f"biases={b}", _biases(net, b), learning_rate) for b in _choices(spec, values)]
    elif key == "hidden":
        hidden = len(net.layout.sizes) - 2
        if hidden != 1:
            raise BadSpec(spec, f"hidden= sizes the one hidden layer; lesson {lesson.name} has {hidden} "
                          "hidden layers")
        seed = lesson.seed if lesson.seed is not None else DEFAULT_SEED
        variants = [Variant(f"hidden={n}", _sized(net, n, seed), learning_rate) for n in _sizes(spec, values)]
    else:
        variants = [Variant(label, net if s is None else fresh_start(net, s), learning_rate)
                    for label, s in _starts(spec, values)]
    if len(variants) > MAX_RUNS:
        raise BadSpec(spec, f"asks for {len(variants)} runs; the most is {MAX_RUNS}")
    return Plan(key, variants, seed)


def _short(rate: float) -> str:
    """The rate as %g writes it where that is the same number (0.5, 1e-07), else in full: two rates
    never share a label."""
    return f"{rate:g}" if float(f"{rate:g}") == rate else repr(rate)


def _unique(spec: str, items: list) -> list:
    seen = set()
    for item in items:
        if item in seen:
            raise BadSpec(spec, f"{item} is given twice")
        seen.add(item)
    return items


def _count(spec: str, values: list[str]) -> None:
    if len(values) > MAX_RUNS:
        raise BadSpec(spec, f"asks for {len(values)} runs; the most is {MAX_RUNS}")


def _rates(spec: str, values: list[str]) -> list[float]:
    _count(spec, values)
    rates = []
    for v in values:
        rate = float(v) if _NUMBER.fullmatch(v) else math.nan
        if not (math.isfinite(rate) and rate > 0):
            raise BadSpec(spec, f"'{echo(v, 20)}' is not a learning rate: a number above 0 such as 0.5")
        rates.append(rate)
    return _unique(spec, rates)


def _choices(spec: str, values: list[str]) -> list[str]:
    _count(spec, values)
    for v in values:
        if v not in BIASES:
            raise BadSpec(spec, f"unknown biases '{echo(v, 20)}'; expected one of {', '.join(BIASES)}")
    return _unique(spec, values)


def _sizes(spec: str, values: list[str]) -> list[int]:
    _count(spec, values)
    sizes = []
    for v in values:
        if not (v.isascii() and v.isdigit() and len(v) <= 6 and 1 <= int(v) <= MAX_NEURONS):
            raise BadSpec(spec, f"'{echo(v, 20)}' is not a hidden layer's size: a whole number from 1 to "
                          f"{MAX_NEURONS}")
        sizes.append(int(v))
    return _unique(spec, sizes)


def _starts(spec: str, values: list[str]) -> list[tuple[str, int | None]]:
    """init=: ``lesson`` (the lesson's own numbers), ``seed:N`` or ``seed:A..B``."""
    starts: list[tuple[str, int | None]] = []
    for v in values:
        if v == "lesson":
            starts.append(("init=lesson", None))
            continue
        m = _SEED.fullmatch(v)
        if m is None:
            raise BadSpec(spec, f"'{echo(v, 20)}' is not a start: expected lesson, seed:N or seed:A..B")
        low = int(m.group(1))
        high = int(m.group(2)) if m.group(2) is not None else low
        if low > high:
            raise BadSpec(spec, f"the seeds {low}..{high} run backwards; write seed:{high}..{low}")
        if high > MAX_SEED:
            raise BadSpec(spec, f"a seed is at most {MAX_SEED:,}")
        if high - low + 1 + len(starts) > MAX_RUNS:
            raise BadSpec(spec, f"asks for more than {MAX_RUNS} runs; the most is {MAX_RUNS}")
        starts += [(f"init=seed:{s}", s) for s in range(low, high + 1)]
    _unique(spec, [label for label, _ in starts])
    return starts


def _biases(net: Network, how: str) -> Network:
    if how == "none":  # no biases at all: every one 0, and kept there
        return dataclasses.replace(net, biases=dict.fromkeys(net.biases, 0.0), train_biases=False)
    if how == "fixed":
        return dataclasses.replace(net, train_biases=False)
    if how == "trained" or net.layout.bias_mode == "per-neuron":
        return dataclasses.replace(net, train_biases=True)
    # per-neuron: one bias per neuron, each starting at the value of the shared bias it replaces
    layout = Layout(net.layout.sizes, net.layout.numbering, "per-neuron")
    biases = {new: net.biases[old] for new, old in zip(
        (b for layer in layout.biases for b in layer), (b for layer in net.layout.biases for b in layer),
        strict=True)}
    return dataclasses.replace(net, layout=layout, biases=biases, train_biases=True)


def _sized(net: Network, hidden: int, seed: int) -> Network:
    """The network with ``hidden`` neurons in its hidden layer, and fresh weights and biases from ``seed``."""
    sizes = (net.layout.sizes[0], hidden, net.layout.sizes[-1])
    layout = Layout(sizes, net.layout.numbering, net.layout.bias_mode)
    shaped = dataclasses.replace(net, layout=layout, weights=dict.fromkeys(layout.weight_names(), 0.0),
                                 biases=dict.fromkeys(layout.bias_names(), 0.0))
    return fresh_start(shaped, seed)


# ---------------------------------------------------------------------------------------------
# Runs


class Bounded(Updates):
    """A loop whose E_total reads as not a number once it is past ``bound``: ``training.advance`` then
    finds the first update where it got there, as it does for an overflow, and raises ``Diverged``."""

    def __init__(self, inner: Updates, bound: float):  # the inner loop's bookkeeping, shared
        self.inner, self.bound, self.exceeded, self.error = inner, bound, False, math.nan
        self.net, self.eta, self.names = inner.net, inner.eta, inner.names
        self.through_updated, self.batches, self.steps = inner.through_updated, inner.batches, inner.steps
        self.error_scale = inner.error_scale

    def step(self, p: list[float], n: int, done: int = 0) -> None:
        self.inner.step(p, n, done)

    def evaluate(self, p: list[float]) -> tuple[float, tuple[float, ...]]:
        error, outputs = self.inner.evaluate(p)
        self.error = error  # the last one, as it is: where the run diverged, the error there
        self.exceeded = error > self.bound and math.isfinite(error)
        return (math.nan if self.exceeded else error), outputs


@dataclass
class Outcome:
    """One run of a comparison, as the table and the plot show it."""

    label: str
    learning_rate: float
    initial_error: float
    error: float  # at the last state reached: the end, --until, or the update where it diverged
    updates: int  # updates made (to the end, to --until or to the divergence)
    reached: int | None = None  # the update where E_total first fell below --until
    diverged: int | None = None  # the update where it diverged
    why: str = ""  # "not finite" or "E > 1e+06× start"
    curve: list[tuple[int, float]] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C


def run_variant(variant: Variant, total: int, *, until: float | None = None, batch_size: int | None = None,
                record_every: int | None = None, record: Callable[[str, Point], None] | None = None,
                progress: Callable[[int], None] | None = None) -> Outcome:
    """Train one run for ``total`` updates (or until --until), as `train` does, keeping its sampled curve.
    Ctrl-C stops it at the last state reached (``interrupted``)."""
    loop = make_loop(variant.net, variant.learning_rate, batch_size=batch_size)
    start = loop.evaluate(loop.params())[0]
    bounded = Bounded(loop, DIVERGED_FACTOR * start if math.isfinite(start) and start > 0 else math.inf)
    schedule = Schedule(total, None, record_every if record else None)
    outcome = Outcome(variant.label, loop.eta, start, start, 0)
    try:
        for point in history(bounded, total, schedule.points(), until=until, progress=progress):
            outcome.error, outcome.updates = point.error, point.update
            if point.update in schedule.curve or (until is not None and point.error < until):
                outcome.curve.append((point.update, point.error))
            if record is not None and schedule.recorded(point.update):
                record(variant.label, point)
    except Diverged as e:
        outcome.diverged = outcome.updates = e.update
        outcome.error = bounded.error
        outcome.curve.append((e.update, bounded.error))  # drawn where it is a positive finite number
        outcome.why = f"E > {DIVERGED_FACTOR:g}× start" if bounded.exceeded else "not finite"
    except KeyboardInterrupt:
        outcome.interrupted = True
    if until is not None and outcome.diverged is None and outcome.error < until:
        outcome.reached = outcome.updates
    return outcome


def check_size(runs: int, updates: int) -> None:
    if runs * updates > MAX_TOTAL_UPDATES:
        raise TutorError(f"--compare: {runs} runs of {updates:,} updates are {runs * updates:,} updates; the most "
                         f"is {MAX_TOTAL_UPDATES:,} in all")


def compare(out: Out, lesson: Lesson, spec: str, *, epochs: int, learning_rate: float | None = None,
            until: float | None = None, update_biases: bool = False, batch_size: int | None = None,
            every: int | None = None, csv_file: str | None = None, quiet: bool = False,
            open_csv: Callable[[str], TextIO] | None = None) -> int:
    """`train --compare SPEC`: the runs, one table, one plot with a curve per run, and --csv of them all.
    Returns the exit code: 0, or 130 after Ctrl-C (the runs made so far are shown)."""
    from backprop_tutor import report

    chosen = plan(spec, lesson, learning_rate=learning_rate, update_biases=update_biases)
    per_epoch = make_loop(chosen.variants[0].net, batch_size=batch_size).updates_per_epoch
    total = epochs * per_epoch
    check_size(len(chosen.variants), total)
    handle = writer = None
    if csv_file is not None:
        import csv

        try:
            handle = (open_csv or _open)(csv_file)
        except OSError as e:
            raise TutorError(f"cannot write --csv {printable(csv_file)}: {e.strerror}") from None
        writer = csv.writer(handle)
        writer.writerow(["run", "update", "E_total"])

    def record(label: str, point: Point) -> None:
        assert writer is not None
        writer.writerow([label, point.update, repr(point.error)])

    outcomes: list[Outcome] = []
    bar = _bar(out, len(chosen.variants) * total * multiply_adds(chosen.variants[-1].net, batch_size), quiet)
    try:
        with bar or contextlib.nullcontext():
            task = bar.add_task("runs", total=len(chosen.variants) * total) if bar else None
            for k, v in enumerate(chosen.variants):
                def moved(done: int, before: int = k * total) -> None:
                    assert bar is not None and task is not None
                    bar.update(task, completed=before + done)

                outcomes.append(run_variant(v, total, until=until, batch_size=batch_size, record_every=every or 1,
                                            record=record if writer else None, progress=moved if bar else None))
                if outcomes[-1].interrupted:
                    break
        if handle is not None:
            handle.close()  # what is still buffered is written now, and can fail now
    except OSError as e:
        raise TutorError(f"cannot write --csv {printable(csv_file or '')}: {e.strerror}") from None
    finally:
        if handle is not None and not handle.closed:
            with contextlib.suppress(OSError):
                handle.close()
    report.compare_table(out, lesson, chosen, outcomes, total, until, per_epoch)
    stopped = outcomes[-1].interrupted
    if stopped:
        out.say(f"Stopped (Ctrl-C) in run {outcomes[-1].label} after {outcomes[-1].updates:,} of {total:,} updates"
                + ("; the runs after it were not made." if len(outcomes) < len(chosen.variants) else "."),
                "bold yellow")
    if not quiet:
        out.say("")
        report.loss_curves(out, [(o.label, o.curve) for o in outcomes])
    if csv_file:
        out.say(f"History of every run written to {printable(csv_file)} (run, update, E_total).", "dim")
    return 130 if stopped else 0


def _bar(out: Out, work: int, quiet: bool):
    """A progress bar on a terminal for a long comparison (as for a long `train`), or None."""
    import sys

    if quiet or work < BAR_AFTER or not sys.stdout.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from backprop_tutor.render import make_console

    return Progress("training", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=make_console(no_color=not out.colour), transient=True)


def _open(path: str) -> TextIO:
    return open(path, "w", newline="", encoding="utf-8")
