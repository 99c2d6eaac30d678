"""A big batch, judged sample by sample.

A lesson of many samples on a wide network has hundreds of thousands of quantities (64 samples on five
layers of 16: 412,297), and a command names a handful.  A sample's own quantities (``net_h1@2``: every
value before the update) depend on that sample alone, so they are judged on it, as a lesson of that one
sample: its exact trace, its drift, its mistakes.  The batch's own quantities (``E_total``,
``dE_total/dw5``, ``w5+``) and each sample's after the update (``net_h1@2+``) are combined from the
samples' values the way ``network.run_batch`` combines them, and only when one of them is asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from functools import cached_property
from typing import Any

from backprop_tutor import parallel
from backprop_tutor.catalogue import BatchCatalogue
from backprop_tutor.network import PRECISION, RIGHT, Exact, Network, as_decimal, run_one, total

AFTER = ("net_", "out_", "E_")  # what a sample's forward pass after the update names (net_h1@2+)


class BatchValues:
    """The batch's own values, combined from each sample's: ``part(k)`` is sample k's session, which
    has ``exact``, ``trace`` and ``drift`` of its own; ``keeps`` round every intermediate as a learner
    does, and ``floor`` is the least drift, relative, for the drift band (see ``checking.Session.drift``)."""

    def __init__(self, net: Network, cat: BatchCatalogue, part: Callable[[int], Any],
                 keeps: list[Callable[[float], float]], floor: float):
        self.net, self.cat, self.part, self.keeps, self.floor = net, cat, part, keeps, floor
        self.n = len(net.samples)
        self.gradients = [q for q in cat.middle if q.startswith("dE_total/d")]  # of what is trained
        self._pending: parallel.Pending[dict[str, float] | None] | None = None

    def given(self, q: str, k: int, kind: str) -> Any:
        """Input or target ``q`` of sample k, as the exact trace holds it (the decimal written in the lesson)."""
        inputs, targets = self.net.samples[k - 1]
        L = self.net.layout
        value = dict(zip([*L.neurons[0], *(f"target_{o}" for o in L.neurons[-1])], [*inputs, *targets]))[q]
        exact = Decimal(repr(value))
        return {"exact": exact, "trace": Exact(exact), "drift": self.floor * abs(value)}[kind]

    def combine(self, values: list[Any]) -> Any:
        return total(values) / self.n if self.net.batch == "mean" else total(values)

    def _after(self, net: Network, keep: Callable[[Any], Any] | None = None) -> dict[str, Any]:
        """Each sample's forward pass with the updated weights ``net``, and the batch's error after it."""
        out: dict[str, Any] = {}
        errors = []
        for k in range(1, self.n + 1):
            after = run_one(net.sample(k), keep=keep, backward=False)
            out.update({f"{q}@{k}+": v for q, v in after.items() if q.startswith(AFTER)})
            errors.append(after["E_total"] if keep is None else keep(after["E_total"]))  # (as run_batch keeps it)
        out["E_total+"] = self.combine(errors)
        return out

    def _before(self, exact: Network, per: Sequence[Mapping[str, Any]], keep: Callable[[Any], Any]) -> dict[str, Any]:
        """E_total, ∂E_total/∂p and p⁺ of the batch, from each sample's error and gradients ``per``."""
        given = exact.weights | exact.biases
        out: dict[str, Any] = {"E_total": self.combine([p["E_total"] for p in per])}
        for g in self.gradients:
            p = g[len("dE_total/d"):]
            out[g] = self.combine([s[g] for s in per])
            out[f"{p}+"] = RIGHT.update(given[p], exact.learning_rate, keep(out[g]))
        return out

    def _updated(self, exact: Network, before: Mapping[str, Any], keep: Callable[[Any], Any]) -> Network:
        return exact.with_values(**{p: keep(before[f"{p}+"]) for p in (g[len("dE_total/d"):] for g in self.gradients)})

    @cached_property
    def exact(self) -> Parts:
        """At the exact trace's precision, from each sample's exact values."""
        exact = as_decimal(self.net)
        per = [self.part(k).exact for k in range(1, self.n + 1)]

        def same(x: Any) -> Any:
            return x

        with localcontext(prec=PRECISION, Emax=MAX_EMAX, Emin=MIN_EMIN):
            before = self._before(exact, per, same)

        def after() -> dict[str, Any]:
            with localcontext(prec=PRECISION, Emax=MAX_EMAX, Emin=MIN_EMIN):
                return self._after(self._updated(exact, before, same))
        return Parts(before, after)

    @cached_property
    def trace(self) -> Parts:
        exact = self.exact
        return Parts({q: Exact(v) for q, v in exact.before.items()},
                     lambda: {q: Exact(v) for q, v in exact.after.items()})

    def rounded_before(self, keep: Callable[[float], float]) -> dict[str, float] | None:
        """The batch's values before the update as computed from intermediates kept by ``keep`` (each value
        itself as computed, not kept: the learner types their own last digits), as ``run_batch`` with
        ``raw``; None if this way of rounding overflows."""
        ends = ("E_total", *self.gradients)
        try:
            per = [{q: t[q] for q in ends} for t in (run_one(self.net.sample(k), keep=keep, update=False)
                                                     for k in range(1, self.n + 1))]
            return self._before(self.net, per, keep)  # (each sample's values are kept as computed)
        except (OverflowError, ZeroDivisionError, ValueError):
            return None

    def rounded_after(self, before: dict[str, float], keep: Callable[[float], float]) -> dict[str, float]:
        """The same after the update (each sample's forward pass with the weights it gives)."""
        try:
            return self._after(self._updated(self.net, before, keep), keep)
        except (OverflowError, ZeroDivisionError, ValueError):
            return {}  # this way of rounding overflows after the update: it tells nothing there

    def begin_drift(self) -> None:
        """Start the rounded traces behind the drift band, side by side with what this process does next
        (``parallel``): each is a pass over every sample (on 64 samples of 5×16, half a second)."""
        if self._pending is None and "rounded_traces" not in self.__dict__:
            self._pending = parallel.Pending([functools.partial(self.rounded_before, keep) for keep in self.keeps])

    @cached_property
    def rounded_traces(self) -> list[Parts]:
        self.begin_drift()
        assert self._pending is not None
        befores, self._pending = self._pending.results(), None
        return [Parts(before, functools.partial(self.rounded_after, before, keep))
                for before, keep in zip(befores, self.keeps) if before is not None]

    @cached_property
    def drift(self) -> Parts:
        """The band of ``checking.Session.drift``, for the batch's own values."""
        def band(q: str, v: float, traces: Sequence[Mapping[str, float]]) -> float:
            return max(2 * max((abs(t[q] - v) for t in traces if q in t), default=0.0), self.floor * abs(v))

        eta = abs(float(self.net.learning_rate))
        given = {*self.net.weights, *self.net.biases}
        before = {q: band(q, v, [t.before for t in self.rounded_traces]) for q, v in self.trace.before.items()}
        for q in before:
            if q[:-1] in given and q.endswith("+"):  # a weight or bias after the update: η times its gradient's
                before[q] = eta * before[f"dE_total/d{q[:-1]}"] * (1 + 1e-9)

        def after() -> dict[str, float]:  # a forward value after the update: at most a quarter of its change
            traces = [t.after for t in self.rounded_traces]
            trace = View(self, "trace")
            return {q: min(band(q, v, traces), abs(v - trace[q[:-1]]) / 4) for q, v in self.trace.after.items()}
        return Parts(before, after)


class Parts(Mapping[str, Any]):
    """A batch's own values: those before the update (E_total, ∂E_total/∂p, p⁺) at once, and those after
    it (each sample's forward pass with the updated weights, E_total⁺) only when one is asked for."""

    def __init__(self, before: dict[str, Any], after: Callable[[], dict[str, Any]]):
        self.before, self._make_after = before, after

    @cached_property
    def after(self) -> dict[str, Any]:
        return self._make_after()

    def __getitem__(self, q: str) -> Any:
        if q in self.before:
            return self.before[q]
        if q.endswith("+") and q.startswith(AFTER):
            return self.after[q]
        raise KeyError(q)

    def __contains__(self, q: object) -> bool:
        return q in self.before or (isinstance(q, str) and q.endswith("+") and q.startswith(AFTER) and q in self.after)

    def __iter__(self) -> Iterator[str]:
        yield from self.before
        yield from self.after

    def __len__(self) -> int:
        return len(self.before) + len(self.after)


class View(Mapping[str, Any]):
    """The ``exact``, ``trace`` or ``drift`` of a whole big batch, each value taken from where it is
    computed: a sample's own from that sample's session, the batch's from ``BatchValues``."""

    def __init__(self, values: BatchValues, kind: str):
        self.source, self.kind, self.cat = values, kind, values.cat

    def __getitem__(self, q: str) -> Any:
        found = self.cat.sample_of(q)
        if found is not None and self.cat.single[found[0]].given:  # an input or target: no need to run
            return self.source.given(*found, self.kind)
        if found is not None and not found[0].endswith("+"):
            base, k = found
            return getattr(self.source.part(k), self.kind)[base]
        if q in self.cat.head:  # a weight, a bias, η: the same for every sample
            return getattr(self.source.part(1), self.kind)[q]
        if q in self.cat:
            return getattr(self.source, self.kind)[q]
        raise KeyError(q)

    def __iter__(self) -> Iterator[str]:
        return iter(self.cat)

    def __len__(self) -> int:
        return len(self.cat)

    def __contains__(self, q: object) -> bool:
        return q in self.cat
