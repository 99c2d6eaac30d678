"""Training: the update of ``backprop_tutor.network.run``, repeated many times, fast.

``run`` names every quantity of one update; training needs only the weights.  Two loops do the
updates, with the same numbers: ``backprop_tutor.compiled`` writes the update out for the network's
shape as straight-line Python, which is fastest for small networks, and ``backprop_tutor.matrix``
does it with NumPy matrices, which is fastest for wide networks and many samples; ``make_loop``
picks one by a measured crossover.  This module runs them: checkpoints, the loss curve and the
--csv history as the run goes (nothing kept grows with the number of updates but the table of an
--every run, and that waits in a temporary file), --until, Ctrl-C and divergence.
"""

from __future__ import annotations

import heapq
import itertools
import math
import struct
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import BinaryIO

from backprop_tutor.answers import agrees, parse_number
from backprop_tutor.compiled import CompiledLoop
from backprop_tutor.errors import TutorError
from backprop_tutor.lesson import Claim, Lesson
from backprop_tutor.network import Network
from backprop_tutor.updates import Updates

MAX_CHUNK = 20_000  # updates between two looks at the state (progress bar, Ctrl-C, --until)


class Diverged(TutorError):
    exit_code = 1

    def __init__(self, update: int):
        self.update = update
        super().__init__(f"training diverged at update {update:,}: the error is no longer a finite "
                         "number; try a smaller learning rate")


# ---------------------------------------------------------------------------------------------
# The update loops: which one, and how a run advances


# Where NumPy's matrices overtake the compiled loop, measured by bench/crossover.py: the compiled loop
# costs about the same per multiply-add at every size (0.15–0.3 µs), NumPy about the same per layer
# (6–15 µs) at these sizes, so the rule compares multiply-adds per layer.  Near the crossover the two
# are within noise of each other, and both are faster than plain NumPy code (bench/train.py).
CROSSOVER = 64  # multiply-adds per layer of one update (weights × samples per update ÷ layers)


def multiply_adds(net: Network, batch_size: int | None = None) -> int:
    """Multiply-adds of one update's forward pass: the weights times the samples in a batch."""
    samples = len(net.samples) if batch_size is None else min(batch_size, len(net.samples))
    return net.layout.weight_count * samples


def matrices_win(net: Network, batch_size: int | None = None) -> bool:
    """Whether NumPy's matrices are faster than the compiled loop for this network (see CROSSOVER)."""
    return multiply_adds(net, batch_size) > CROSSOVER * net.layout.depth


def make_loop(net: Network, learning_rate: float | None = None, through_updated: bool = False,
              batch_size: int | None = None) -> Updates:
    """The faster loop for this network: compiled for its shape, or NumPy matrices (see CROSSOVER)."""
    if through_updated and net.extra:
        raise TutorError("the original's earlier rule (--as-published) is a rule for one sample; "
                         "this lesson has several")
    if matrices_win(net, batch_size):
        from backprop_tutor.matrix import MatrixLoop

        return MatrixLoop(net, learning_rate, batch_size, through_updated)
    return CompiledLoop(net, learning_rate, batch_size, through_updated)


def _finite(error: float, p: list[float]) -> bool:
    return math.isfinite(error) and all(map(math.isfinite, p))


def advance(loop: Updates, p: list[float], n: int, done: int = 0) -> tuple[float, tuple[float, ...]]:
    """``n`` updates of ``p`` in place; E_total and the outputs after them.

    Raises ``Diverged`` with the first update after which the error or a parameter is not a finite
    number (the chunk is stepped again one update at a time to find it), whichever loop runs."""
    start = list(p)
    loop.step(p, n, done)
    error, outputs = loop.evaluate(p)
    if _finite(error, p):
        return error, outputs
    p[:] = start
    for k in range(n):
        loop.step(p, 1, done + k)
        error, outputs = loop.evaluate(p)
        if not _finite(error, p):
            raise Diverged(done + k + 1)
    return error, outputs


# ---------------------------------------------------------------------------------------------
# Runs


@dataclass(frozen=True)
class Trained:
    updates: int
    learning_rate: float
    initial_error: float
    error: float  # after all the updates
    previous_error: float  # after one update fewer
    outputs: tuple[float, ...]
    network: Network  # with the trained weights and biases


def train(net: Network, updates: int, *, learning_rate: float | None = None,
          backprop_through_updated: bool = False) -> Trained:
    """``updates`` steps of gradient descent on the lesson's samples.

    ``backprop_through_updated`` repeats a known slip (see ``backprop_tutor.network.run``).
    """
    loop = make_loop(net, learning_rate, backprop_through_updated)
    p = loop.params()
    initial, outputs = loop.evaluate(p)
    error = previous = initial
    done = 0
    for target in (updates - 1, updates):  # one update short (for previous_error), then all
        while done < target:
            n = min(MAX_CHUNK * 50, target - done)
            error, outputs = advance(loop, p, n, done)
            done += n
        if target == updates - 1:
            previous = error
    return Trained(updates, loop.eta, initial, error, previous, outputs, loop.network(p))


@dataclass(frozen=True)
class Point:
    """The state after ``update`` updates."""

    update: int
    error: float
    outputs: tuple[float, ...]
    params: tuple[float, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """Which states of a run are looked at, and why: the checkpoint table (0, 1, 10, 100, … and the
    last; with ``every``, each multiple of it too), the loss curve (``curve`` evenly spaced points)
    and the --csv history (each multiple of ``record_every``).  Nothing here lists every update."""

    total: int
    every: int | None = None
    record_every: int | None = None
    curve_count: int = 120

    @cached_property
    def powers(self) -> frozenset[int]:
        """0, 1, 10, 100, … below the total, and the total."""
        points, k = {0, self.total}, 1
        while k < self.total:
            points.add(k)
            k *= 10
        return frozenset(points)

    @cached_property
    def curve(self) -> frozenset[int]:
        return frozenset(round(self.total * k / self.curve_count) for k in range(self.curve_count + 1))

    def in_table(self, u: int) -> bool:
        return u in self.powers or bool(self.every and u % self.every == 0)

    def recorded(self, u: int) -> bool:
        return self.record_every is not None and (u % self.record_every == 0 or u == self.total)

    def points(self) -> Iterator[int]:
        """Every state looked at, in order, each once."""
        few = sorted(self.powers | self.curve | {max(self.total - 1, 0)})
        many = [range(0, self.total + 1, n) for n in (self.every, self.record_every) if n]
        return (u for u, _ in itertools.groupby(heapq.merge(few, *many)))


def history(loop: Updates, total: int, points: Iterable[int], *, until: float | None = None,
            progress: Callable[[int], None] | None = None) -> Iterator[Point]:
    """The state at each of ``points`` (ascending; and at the update where the error first falls below
    ``until``, where the run then stops). ``progress`` hears the update count as it grows."""
    p = loop.params()
    done = 0
    error, outputs = loop.evaluate(p)
    for point in itertools.chain((u for u in points if u < total), [total]):
        if point < done:
            continue
        before, start, start_error = list(p), done, (error, outputs)
        while done < point:
            n = min(MAX_CHUNK, point - done)
            error, outputs = advance(loop, p, n, done)
            done += n
            if progress:
                progress(done)
        if until is not None and error < until and point > 0:
            # step again one update at a time from the previous point to find the first one below
            p[:], done, (error, outputs) = before, start, start_error
            while error >= until:
                error, outputs = advance(loop, p, 1, done)
                done += 1
            yield Point(done, error, outputs, tuple(p))
            return
        yield Point(done, error, outputs, tuple(p))
        if until is not None and error < until:
            return


class Rows:
    """The checkpoint table's rows (update, E_total, outputs), kept as they come: in memory while
    they are few, then in a temporary file, so that a row every update (--every 1) costs no memory."""

    KEEP = 1_000

    def __init__(self) -> None:
        self._rows: list[Point] = []
        self._file: BinaryIO | None = None
        self._spilled = 0
        self._width = 0
        self.last: Point | None = None

    def append(self, point: Point) -> None:
        point = Point(point.update, point.error, point.outputs)  # without the parameters
        self._rows.append(point)
        self.last = point
        if len(self._rows) >= self.KEEP:
            if self._file is None:
                import tempfile  # only for a long table: it is slow to import

                self._file = tempfile.TemporaryFile()
                self._width = 2 + len(point.outputs)
            for row in self._rows:
                self._file.write(struct.pack(f"{self._width}d", row.update, row.error, *row.outputs))
            self._spilled += len(self._rows)
            self._rows.clear()

    def __len__(self) -> int:
        return self._spilled + len(self._rows)

    def __iter__(self) -> Iterator[Point]:
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
            for _ in range(0, self._spilled, self.KEEP):
                values = array("d")
                values.frombytes(self._file.read(8 * self._width * self.KEEP))
                for k in range(0, len(values), self._width):
                    yield Point(int(values[k]), values[k + 1], tuple(values[k + 2:k + self._width]))
            self._file.seek(0, 2)
        yield from list(self._rows)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass
class Run:
    """A training run as `train` shows it: checkpoints, the loss curve, where it stopped and why."""

    total: int
    rows: Rows  # the checkpoint table
    curve: list[tuple[int, float]]
    first: Point
    last: Point
    previous_error: float | None  # after total − 1 updates, when the run got there
    stopped: str | None = None  # "until" or "interrupted"

    @classmethod
    def at_start(cls, loop: Updates, total: int) -> Run:
        """A run that has not made an update yet."""
        p = loop.params()
        error, outputs = loop.evaluate(p)
        point = Point(0, error, outputs, tuple(p))
        rows = Rows()
        rows.append(point)
        return cls(total, rows, [(0, error)], point, point, None)

    def trained(self, loop: Updates) -> Trained:
        previous = self.previous_error if self.previous_error is not None else self.last.error
        return Trained(self.last.update, loop.eta, self.first.error, self.last.error, previous,
                       self.last.outputs, loop.network(list(self.last.params)))


def run_schedule(loop: Updates, total: int, *, every: int | None = None, until: float | None = None,
                 record_every: int | None = None, record: Callable[[Point], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> Run:
    """Train for ``total`` updates, keeping the checkpoints and a bounded loss curve.

    ``record`` hears the state every ``record_every`` updates (the --csv history), streamed:
    nothing in memory grows with the number of updates.  Ctrl-C stops the run at the last state reached.
    """
    schedule = Schedule(total, every, record_every if record else None)
    curve = schedule.curve
    run = Run(total, Rows(), [], first=None, last=None, previous_error=None)  # type: ignore[arg-type]
    try:
        for point in history(loop, total, schedule.points(), until=until, progress=progress):
            if run.first is None:
                run.first = point
            run.last = point
            if schedule.in_table(point.update):
                run.rows.append(point)
            if point.update in curve:
                run.curve.append((point.update, point.error))
            if point.update == total - 1:
                run.previous_error = point.error
            if record is not None and schedule.recorded(point.update):
                record(point)
    except KeyboardInterrupt:
        run.stopped = "interrupted"
    if run.last is None:  # interrupted before anything: the starting state
        run = Run.at_start(loop, total)
        run.stopped = "interrupted"
    if until is not None and run.stopped is None and run.last.error < until:
        run.stopped = "until"
    if run.stopped and (run.rows.last is None or run.rows.last.update != run.last.update):
        run.rows.append(run.last)
        run.curve.append((run.last.update, run.last.error))
    return run


# ---------------------------------------------------------------------------------------------
# What a lesson's source claims


@dataclass(frozen=True)
class ClaimCheck:
    """What a lesson's source claims after some updates, set beside what the engine computes."""

    claim: Claim
    trained: Trained
    error_right: bool  # the claimed error agrees with the error after claim.updates updates
    error_one_short: bool  # … with the error after one update fewer
    outputs_right: bool
    published: Trained  # the same run with the slip backprop_through_updated
    published_outputs: bool  # the slip reproduces the claimed outputs
    published_error: bool  # … and the claimed error


def check_claims(lesson: Lesson, trained: Trained) -> list[ClaimCheck]:
    """The lesson's claims about this many updates at its own learning rate, checked."""
    checks = []
    for claim in lesson.claims:
        if claim.updates != trained.updates or trained.learning_rate != lesson.network.learning_rate:
            continue
        published = train(lesson.network, claim.updates, backprop_through_updated=True)
        error = parse_number(claim.error)
        outputs = [parse_number(o) for o in claim.outputs]

        def same(values: tuple[float, ...], outputs: list = outputs) -> bool:
            return all(agrees(o, Decimal(v)) for o, v in zip(outputs, values, strict=True))

        checks.append(ClaimCheck(
            claim, trained,
            error_right=agrees(error, Decimal(trained.error)),
            error_one_short=agrees(error, Decimal(trained.previous_error)),
            outputs_right=same(trained.outputs),
            published=published,
            published_outputs=same(published.outputs),
            published_error=agrees(error, Decimal(published.error))))
    return checks


def published_figures(lesson: Lesson, trained: Trained) -> list[tuple[str, str, float, str, bool]]:
    """Each of the lesson's published figures beside the recipe that reproduces it (--as-published):
    (figure, as printed, value reproduced, how, whether they agree at the printed digits)."""
    figures = []
    for claim in lesson.claims:
        if claim.updates != trained.updates:
            continue
        right = train(lesson.network, claim.updates)
        printed = parse_number(claim.error)
        figures.append((f"error after {claim.updates:,} updates", claim.error, right.previous_error,
                        f"the right rule, measured one update short (after {claim.updates - 1:,})",
                        agrees(printed, Decimal(right.previous_error))))
        for o, text, value in zip(lesson.network.layout.neurons[-1], claim.outputs, trained.outputs):
            figures.append((f"out_{o} after {claim.updates:,} updates", text, value, "the earlier rule",
                            agrees(parse_number(text), Decimal(value))))
    return figures
