"""A big batch, judged sample by sample.

A lesson of many samples on a wide network has hundreds of thousands of quantities (64 samples on five
layers of 16: 412,297), and a command names a handful.  A sample's own quantities (``net_h1@2``: every
value before the update) depend on that sample alone, so they are judged on it, as a lesson of that one
sample: its exact trace, its drift, its mistakes.  The batch's own quantities (``E_total``,
``dE_total/dw5``, ``w5+``) and each sample's after the update (``net_h1@2+``) are combined from the
samples' values the way ``network.run_batch`` combines them, and only when one of them is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from functools import cached_property
from typing import Any

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

    @cached_property
    def exact(self) -> dict[str, Decimal]:
        """At the exact trace's precision, from each sample's exact values."""
        exact = as_decimal(self.net)
        given = exact.weights | exact.biases
        per = [self.part(k).exact for k in range(1, self.n + 1)]
        with localcontext(prec=PRECISION, Emax=MAX_EMAX, Emin=MIN_EMIN):
            out: dict[str, Any] = {"E_total": self.combine([p["E_total"] for p in per])}
            for g in self.gradients:
                p = g[len("dE_total/d"):]
                out[g] = self.combine([s[g] for s in per])
                out[f"{p}+"] = RIGHT.update(given[p], exact.learning_rate, out[g])
            updated = exact.with_values(**{g[len("dE_total/d"):]: out[g[len("dE_total/d"):] + "+"]
                                           for g in self.gradients})
            out |= self._after(updated)
        return out

    @cached_property
    def trace(self) -> dict[str, float]:
        return {q: Exact(v) for q, v in self.exact.items()}

    def rounded(self, keep: Callable[[float], float]) -> dict[str, float]:
        """The batch's values as computed from intermediates kept by ``keep`` (each value itself as
        computed, not kept: the learner types their own last digits), as ``run_batch`` with ``raw``."""
        ends = []
        for k in range(1, self.n + 1):
            raw: dict[str, float] = {}
            run_one(self.net.sample(k), keep=keep, raw=raw, update=False)
            ends.append({q: keep(raw[q]) for q in ("E_total", *self.gradients)})
        out = {"E_total": self.combine([e["E_total"] for e in ends])}
        given = self.net.weights | self.net.biases
        kept = {}
        for g in self.gradients:
            p = g[len("dE_total/d"):]
            out[g] = self.combine([e[g] for e in ends])
            out[f"{p}+"] = RIGHT.update(given[p], self.net.learning_rate, keep(out[g]))
            kept[p] = keep(out[f"{p}+"])
        return out | self._after(self.net.with_values(**kept), keep)

    @cached_property
    def rounded_traces(self) -> list[dict[str, float]]:
        traces = []
        for keep in self.keeps:
            try:
                traces.append(self.rounded(keep))
            except (OverflowError, ZeroDivisionError, ValueError):
                continue
        return traces

    @cached_property
    def drift(self) -> dict[str, float]:
        """The band of ``checking.Session.drift``, for the batch's own values."""
        traces = self.rounded_traces
        band = {q: max(2 * max((abs(t[q] - v) for t in traces if q in t), default=0.0), self.floor * abs(v))
                for q, v in self.trace.items()}
        eta = abs(float(self.net.learning_rate))
        given = {*self.net.weights, *self.net.biases}
        for q in band:
            before = q[:-1]
            if before in given and f"dE_total/d{before}" in band:  # a weight or bias after the update
                band[q] = eta * band[f"dE_total/d{before}"] * (1 + 1e-9)
            elif q.endswith("+"):  # a forward value after the update
                band[q] = min(band[q], abs(self.trace[q] - View(self, "trace")[before]) / 4)
        return band


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
