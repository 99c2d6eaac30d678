"""The interactive lesson: the steps of a lesson, and the loop that asks for them one at a time.

``steps`` orders a lesson's quantities the way a person computes them (the engine's trace order:
forward pass, error, output layer, hidden layer, after the update).  A slope that only copies a
value already known (∂net_o1/∂w6 = out_h2) is asked once per section, then shown.

``Walk`` is the loop, with no terminal code of its own: it reads lines through ``read`` and
shows everything through a ``screen`` (``backprop_tutor.screens.Screen``), so tests can drive it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from backprop_tutor import answers, progress
from backprop_tutor.catalogue import SECTIONS, BatchCatalogue, givens, sample_key
from backprop_tutor.checking import Session
from backprop_tutor.errors import BadNumber
from backprop_tutor.progress import Progress, Record, Store

if TYPE_CHECKING:
    from backprop_tutor.mistakes import Finding
    from backprop_tutor.network import Network

HINT_LEVELS = progress.HINT_LEVELS
YES = ("y", "yes")  # at a confirmation; the command being confirmed counts as a yes too
COMMANDS = {  # command: (short forms, what it does)
    "hint": (("h",), "a hint; ask again for a deeper one (3 levels)"),
    "skip": (("s",), "show the worked answer and go on (the step counts as skipped)"),
    "explain": (("e", "x"), "the full derivation of this step (it shows the answer: asks first)"),
    "more": (("m",), "the formula and full precision of your last right answer"),
    "table": (("t",), "every value known so far"),
    "diagram": (("d",), "the network, with the values computed so far"),
    "back": (("b",), "go back one step"),
    "outline": (("o",), "the sections and their steps, and where you are"),
    "goto": (("g",), "goto NAME: go to that step (goto dE/dw1, goto w5+)"),
    "quit": (("q", "exit"), "save and stop; `backprop-tutor start` resumes here"),
    "help": (("?",), "this list"),
}
_ALIASES = {short: name for name, (shorts, _) in COMMANDS.items() for short in (name, *shorts)}


class Step(NamedTuple):  # (a named tuple: a big batch has 500,000 steps, made in a fifth of a dataclass's time)
    qid: str
    section: str
    asked: bool  # False: a value the learner already knows under another name; shown, not asked


def steps(catalogue: Mapping, every_sample: bool = False) -> list[Step]:
    """The lesson's steps in the post's order (see ``post_order``); progress is keyed by quantity, so a
    learner's file resumes whatever the order. With several samples the first is worked and the others
    shown, or (``every_sample``: a lesson's ``by_hand = "all"``) every sample is worked; the values of
    each sample after the update are shown."""
    if isinstance(catalogue, BatchCatalogue):
        return batch_steps(catalogue, every_sample)
    return post_order(_steps(catalogue, every_sample), catalogue)


def post_order(found: list[Step], catalogue: Mapping) -> list[Step]:
    """δ_j after the first gradient that multiplies its factors out (∂E/∂w5 = ∂E/∂out_o1·∂out_o1/∂net_o1·
    ∂net_o1/∂w5): the post computes the three factors and their product first, then names the first two δ.
    A δ that is not the product of those factors (softmax: δ_o1 = out_o1 − target_o1) stays where it is, and
    a held δ comes out before any step that needs it. One pass: big lessons have hundreds of thousands."""
    out: list[Step] = []
    held: dict[str, Step] = {}  # the slope ∂out_j/∂net_j → the δ_j waiting for its first gradient
    for step in found:
        if m := re.fullmatch(r"delta_(\w+?)(@\d+)?", step.qid):
            slope = f"dout_{m[1]}/dnet_{m[1]}{m[2] or ''}"
            if slope in catalogue[step.qid].deps:
                held[slope] = step
                continue
        elif held:
            deps = catalogue[step.qid].deps
            for slope in [k for k, d in held.items() if d.qid in deps]:
                out.append(held.pop(slope))  # (a step that needs δ: it comes first)
            out.append(step)
            if re.fullmatch(r"dE_total/dw\d+(@\d+)?", step.qid):
                for slope in [k for k in held if k in deps]:
                    out.append(held.pop(slope))
            continue
        out.append(step)
    out.extend(held.values())
    return out


def _steps(catalogue: Mapping, every_sample: bool = False) -> list[Step]:
    out: list[Step] = []
    seen: set[tuple[str, str]] = set()
    for q in catalogue.values():
        if q.given:
            continue
        asked = True
        if m := re.search(r"@(\d+)(\+?)$", q.id):
            out.append(Step(q.id, q.section, (m[1] == "1" or every_sample) and not m[2]))
            continue
        if m := re.fullmatch(r"dnet_\w+/d(\w+)", q.id):
            kind = (q.section, "weight" if m[1].startswith("out_") else "source")
            asked = kind not in seen
            seen.add(kind)
        out.append(Step(q.id, q.section, asked))
    return out


def batch_steps(cat: BatchCatalogue, every_sample: bool = False) -> list[Step]:
    """The steps of several samples, as ``steps`` makes them, without making every quantity (a big batch
    has 400,000): sample 1 is worked, the other samples' steps shown, then the batch's own steps."""
    def sample(ids: list[str], first: bool) -> list[Step]:
        ordered = post_order([Step(q, cat.single[q].section, True) for q in ids if not cat.single[q].given],
                             cat.single)  # the post's order within a sample
        own = [(step.qid, step.section) for step in ordered]
        return [Step(sample_key(q, k), section, first and (k == 1 or every_sample))
                for k in range(1, cat.n + 1) for q, section in own]

    return [*sample(cat.before, True), *(Step(q, x.section, True) for q, x in cat.middle.items()),
            *sample(cat.after, False), *(Step(q, x.section, True) for q, x in cat.tail.items())]


def known_at(net: Network, trace: Mapping[str, float], catalogue: Mapping, qid: str | None) -> dict[str, float]:
    """What a learner at step ``qid`` has: the lesson's givens and every step before it, in the walk's
    order (δ_o1 after ∂E/∂w5, as the post computes them).  With several samples, of the steps before
    it only the batch's own and those of the sample the picture shows: the step's, or sample 1 (a big
    batch has 400,000 others)."""
    values = {q: trace[q] for q in given_names(net)}
    if qid is None:
        return values
    order: Iterable[str] = (step.qid for step in steps(catalogue))
    if isinstance(catalogue, BatchCatalogue):  # the picture shows one sample: the step's, or sample 1
        own = catalogue.sample_of(qid)
        shown = own[1] if own else 1
        tags = (f"@{shown}", f"@{shown}+")
        order = (q for q in order if "@" not in q or q.endswith(tags))
    for q in order:
        if q == qid:
            break
        values[q] = trace[q]
    return values


def given_names(net: Network) -> list[str]:
    """The names of what a lesson gives, as the engine names them: weights, biases, the learning rate,
    and each sample's inputs and targets (i1@2, target_o1@2 with several)."""
    L = net.layout
    tags = [f"@{k}" for k in range(1, len(net.samples) + 1)] if net.extra else [""]
    return [*net.weights, *net.biases, "eta", *(i + tag for tag in tags for i in L.neurons[0]),
            *(f"target_{o}{tag}" for tag in tags for o in L.neurons[-1])]


def lesson_steps(session: Session) -> list[Step]:
    """The steps of a session's lesson, every sample worked where the lesson says so."""
    return steps(session.catalogue, session.lesson.by_hand == "all")


FORMULA_KINDS = (  # `start --formulas`: the first step of each kind asks for the formula first
    (r"net_\w+", "net input"), (r"out_\w+", "activation"), (r"E_o\d+", "error"), (r"E_total", "total error"),
    (r"dE_total/dout_o\d+", "error slope"), (r"dout_(\w+)/dnet_\1", "activation slope"), (r"delta_\w+", "δ"),
    (r"dnet_\w+/dout_\w+", "path weight"), (r"dE_(?!total/)(?:via_)?\w+/dout_\w+", "path"),
    (r"dE_total/dout_\w+", "sum over paths"), (r"dnet_\w+/d\w+", "what a weight multiplies"),
    (r"dE_total/d\w+", "chain-rule product"), (r"\w+\+", "update"),
)


def formula_steps(asked: list[Step]) -> set[str]:
    """The first step of each kind (a chain-rule product or δ once per layer), before the update."""
    seen: set[tuple[str, str]] = set()
    out: set[str] = set()
    for s in asked:
        if s.section == "after" or "@" in s.qid:
            continue
        kind = next((k for pattern, k in FORMULA_KINDS if re.fullmatch(pattern, s.qid)), None)
        if kind is None:
            continue
        where = s.section if kind in ("chain-rule product", "δ", "activation slope", "what a weight multiplies") \
            else ""
        if (kind, where) not in seen:
            seen.add((kind, where))
            out.add(s.qid)
    return out


class Stop(Exception):
    """The learner asked to stop (quit)."""


TAKES_A_NAME = ("goto",)


def command_of(text: str) -> str | None:
    """The command a typed line names, or None when it is meant as a number."""
    word = text.strip().lower()
    if word in _ALIASES:
        return _ALIASES[word]
    first = word.split(maxsplit=1)[0] if word else ""
    if _ALIASES.get(first) in TAKES_A_NAME:
        return _ALIASES[first]
    return None


def argument_of(text: str) -> str:
    """What follows the command word (``goto dE/dw1`` → ``dE/dw1``)."""
    parts = text.strip().split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


def looks_like_a_word(text: str) -> bool:
    t = text.strip().lower()
    return bool(t) and (t[0].isalpha() or t[0] == "?") and t not in ("nan", "inf", "infinity")


class Walk:
    def __init__(self, session: Session, store: Store, state: Progress, screen, read: Callable[[str], str],
                 formulas: bool = False, gradient_check: bool = False):
        self.session, self.store, self.state, self.screen, self.read = session, store, state, screen, read
        self.steps = lesson_steps(session)
        self.index = {s.qid: n for n, s in enumerate(self.steps)}
        self.asked = [s for s in self.steps if s.asked]
        self.save_warned = False
        self.save_problem: str | None = None  # why the last save failed
        self.advice: list[Finding] = []  # the diagnosis of the last wrong answer, for the next hint
        self.formula_steps = formula_steps(self.asked) if formulas else set()
        self.last_right: Any = None  # the check result of the last right answer (`more`)
        self.jump: int | None = None  # where `goto` goes
        self.last_hint: list[tuple[str, str]] | None = None  # what the last hint showed (none twice in a row)
        self.gradient_check = gradient_check  # offer the gradient check by hand after the output layer

    # state ------------------------------------------------------------------------------------

    def save(self) -> None:
        problem = self.store.save(self.state)
        self.flush_warnings()
        self.save_problem = problem
        if problem and not self.save_warned:
            self.screen.warn(problem + "; your answers are kept while the tutor runs and saving is tried "
                             "again after every step")
            self.save_warned = True
        elif not problem and self.save_warned:
            self.screen.say("Progress saved again.", "green")
            self.save_warned = False

    def flush_warnings(self) -> None:
        for w in self.state.warnings:
            self.screen.warn(w)
        self.state.warnings.clear()

    def done_count(self, held: set[str] | None = None) -> int:
        """Steps asked that are done (in ``held``: the steps the progress file holds)."""
        return sum(1 for s in self.asked if (s.qid in held if held is not None else self.state.done(s.qid)))

    def known(self) -> dict[str, float]:
        """Every value the learner has: the lesson's givens and the steps done or shown."""
        trace, cat = self.session.trace, self.session.catalogue
        values = {q: trace[q] for q in givens(cat)}
        values |= {q: trace[q] for q in self.state.records}
        return values

    def first_open(self) -> int:
        for n, s in enumerate(self.steps):
            if not self.state.done(s.qid):
                return n
        return len(self.steps)

    def start_index(self, jump: str | None) -> int:
        if jump is not None:
            qid = self.session.resolver.resolve(jump).id
            return self.index[qid]
        if self.state.position in self.index and not self.state.done(self.state.position):
            return self.index[self.state.position]
        return self.first_open()

    # the loop ---------------------------------------------------------------------------------

    def run(self, jump: str | None = None) -> bool:
        """Walk the lesson from where the learner is. True when the end was reached."""
        self.flush_warnings()
        n = self.start_index(jump)
        done = sum(1 for s in self.asked if self.state.done(s.qid))
        if jump is None and done == len(self.asked):
            self.screen.say("You have finished this lesson: here is how it went. "
                            "`backprop-tutor start --restart` does it again.", "bold")
        elif jump is None and done:
            self.screen.resume(self, self.steps[n])
        else:
            self.screen.intro(self)
        revisit = self.steps[n].qid if jump is not None and n < len(self.steps) else None
        try:
            while True:  # the end is the end only when every step is done (after --step or back, some are not)
                self.walk_from(n, revisit)
                n, revisit = self.first_open(), None
                if n == len(self.steps):
                    break
                left = [s for s in self.asked if not self.state.done(s.qid)]
                if left:
                    self.screen.still_open(self, left)
            self.state.position = None
            self.save()
            self.screen.summary(self)
            return True
        except Stop:
            self.save()
            self.screen.stopped(self)
            return False

    def walk_from(self, n: int, revisit: str | None) -> None:
        """Go through the steps from the n-th to the end, asking those not done yet (and ``revisit``)."""
        while n < len(self.steps):
            step = self.steps[n]
            if self.gradient_check and n and self.steps[n - 1].section == "output" and step.section != "output":
                self.gradient_check = False  # offered once, where the walk leaves the output layer
                self.hand_check()
            self.state.position = step.qid
            if not step.asked:
                if not self.state.done(step.qid):
                    self.record(step, progress.SHOWN, typed="")
                self.screen.shown(self, step)
                n += 1
                continue
            if self.state.done(step.qid) and step.qid != revisit:
                n += 1
                continue
            revisit = None
            outcome = self.ask(step)
            if outcome == "back":
                n = self.previous(n)
                revisit = self.steps[n].qid
            elif outcome == "goto" and self.jump is not None:
                n, self.jump = self.jump, None
                revisit = self.steps[n].qid
            else:
                n += 1

    def previous(self, n: int) -> int:
        for k in range(n - 1, -1, -1):
            if self.steps[k].asked:
                return k
        self.screen.say("This is the first step.", "dim")
        return n

    def record(self, step: Step, status: str, typed: str, attempts: int = 0, hints: int = 0,
               explained: bool = False) -> None:
        q = self.session.catalogue[step.qid]
        old = self.state.records.get(step.qid)
        if old is not None and old.status not in (progress.CHECKED, progress.SHOWN):
            return  # answering a step again (after `back`) does not rewrite how it went the first time
        seen = [m for m, where in self.state.mistakes if where == step.qid]
        stage = self.state.pending.get(step.qid, {})  # the formula asked first (start --formulas)
        formula = {1: "right", 2: "skipped"}.get(stage.get("formula", 0), "")
        self.state.records[step.qid] = Record(status, self.session.trace[step.qid], attempts, hints, typed, q.skill,
                                              seen, explained, formula, stage.get("formula_attempts", 0),
                                              stage.get("formula_hints", 0))
        self.state.pending.pop(step.qid, None)
        self.save()

    def ask(self, step: Step) -> str:
        qid = step.qid
        pending = self.state.pending.setdefault(qid, {})
        pending.setdefault("attempts", 0)
        pending.setdefault("hints", 0)
        attempted_since_hint = True
        self.advice = []
        self.last_hint = None
        if qid in self.formula_steps and not pending.get("formula"):
            outcome = self.ask_formula(step, pending)  # the first stage: the formula, then the number
            if outcome != "next":
                return outcome
            self.screen.now_the_number(self, step)
        else:
            self.screen.step(self, step)
        while True:
            line = self.read(self.screen.prompt(self, step))
            text = line.strip()
            if not text:
                self.screen.say("Type the value you computed, or `help` for the commands.", "dim")
                continue
            command = command_of(text)
            if command is None and looks_like_a_word(text):
                self.screen.unknown_command(text)
                continue
            if command is None:
                try:
                    result = self.session.check(qid, text, self.state)
                except BadNumber as e:
                    self.screen.error(str(e))
                    continue
                self.screen.feedback(self, step, result)
                if result.verdict == answers.IMPRECISE:
                    continue
                if result.accepted:
                    self.last_right = result
                    self.record(step, progress.RIGHT, text, pending["attempts"], pending["hints"],
                                bool(pending.get("explained")))
                    return "next"
                pending["attempts"] += 1
                attempted_since_hint = True
                self.advice = list(result.findings)
                self.state.note_wrong(qid, text, result.counted)
                self.save()
                continue
            if command == "hint":
                if self.advice:  # first what the diagnosis of the last answer points to
                    self.screen.advice(self, step, self.advice)
                    self.advice = []  # (it does not go deeper: the next hint needs no new attempt)
                    continue
                level = min(pending["hints"], HINT_LEVELS)
                if level >= HINT_LEVELS:
                    self.screen.say("That was the last hint: `skip` shows the worked answer.", "dim")
                    continue
                if level > 0 and not attempted_since_hint:
                    if not self.confirm(self.screen.confirm_prompt(level + 1), "hint"):
                        continue
                shown = self.screen.hint_lines(self, step, level + 1)
                while shown == self.last_hint and level + 1 < HINT_LEVELS:  # never the same hint twice in a row
                    level += 1
                    shown = self.screen.hint_lines(self, step, level + 1)
                if shown == self.last_hint:
                    self.screen.say("That was the last hint: `skip` shows the worked answer.", "dim")
                    continue
                pending["hints"] = level + 1
                attempted_since_hint = False
                self.save()
                self.screen.hint(self, step, level + 1, shown)
                self.last_hint = shown
            elif command == "skip":
                self.record(step, progress.SKIPPED, "", pending["attempts"], pending["hints"],
                            bool(pending.get("explained")))
                self.screen.worked(self, step, skipped=True)
                return "next"
            elif command == "back":
                return "back"
            elif command == "goto":
                if self.goto(text):
                    return "goto"
            else:
                self.other_command(command, step, pending)

    def goto(self, text: str) -> bool:
        """``goto NAME``: True when NAME is a step (``self.jump`` is set); else a one-line error."""
        from backprop_tutor.errors import TutorError

        name = argument_of(text)
        if not name:
            self.screen.error("goto needs the name of a step, e.g. `goto dE/dw1`; `outline` lists them.")
            return False
        try:
            qid = self.session.resolver.resolve(name).id
        except TutorError as e:
            self.screen.error(" ".join(str(e).split()))
            return False
        if qid not in self.index:  # pragma: no cover - every quantity that is not given is a step
            self.screen.error(f"{name[:40]} is not a step of this lesson.")
            return False
        self.jump = self.index[qid]
        return True

    def other_command(self, command: str, step: Step, pending: dict[str, int]) -> None:
        """The commands that work the same at the number and at the formula: explain (asked first, since it
        shows the answer), table, diagram, quit, help."""
        if command == "explain":
            if not self.state.done(step.qid) and not pending.get("explained"):
                if not self.confirm(self.screen.explain_prompt(self, step), "explain"):
                    self.screen.say("Not shown.", "dim")
                    return
                pending["explained"] = 1  # the step no longer counts as right at the first try
                self.save()
            self.screen.explain(self, step)
        elif command == "table":
            self.screen.table(self)
        elif command == "more":
            self.screen.more(self)
        elif command == "outline":
            self.screen.outline(self, step)
        elif command == "diagram":
            self.screen.diagram(self, step)
        elif command == "quit":
            raise Stop
        else:
            self.screen.help()

    def hand_check(self) -> None:
        """The gradient check by hand (``start --gradient-check``, ``backprop_tutor.handcheck``)."""
        from backprop_tutor import handcheck

        if not handcheck.run(self.session, self.screen, self.read, lambda prompt: self.confirm(prompt, "yes")):
            raise Stop

    def confirm(self, prompt: str, command: str) -> bool:
        """A yes at a confirmation: y, yes, or the command itself typed again (hint, h …)."""
        answer = self.read(prompt).strip().lower()
        return answer in YES or command_of(answer) == command

    def ask_formula(self, step: Step, pending: dict[str, int]) -> str:
        """The formula stage of a step: "next" once it is right (or skipped), "back" to go back."""
        from backprop_tutor.errors import TutorError

        self.screen.formula_step(self, step)
        self.screen.formula_intro(self, step)
        while True:
            text = self.read(self.screen.formula_prompt(self, step)).strip()
            if not text:
                self.screen.say("Type the formula, or `help` for the commands.", "dim")
                continue
            command = command_of(text)
            if command is None:
                try:
                    result = self.session.check_formula(step.qid, text)
                except TutorError as e:
                    self.screen.formula_error(e)
                    continue
                self.screen.formula_feedback(self, step, result)
                if result.accepted:
                    pending["formula"] = 1
                    self.save()
                    return "next"
                if result.verdict != "right-level":
                    pending["formula_attempts"] = pending.get("formula_attempts", 0) + 1
                    for m in result.counted:  # a formula's mistakes count toward patterns, like a value's
                        if (m, step.qid) not in self.state.mistakes:
                            self.state.mistakes.append((m, step.qid))
                self.save()
            elif command == "hint":
                level = pending.get("formula_hints", 0)
                if level >= HINT_LEVELS:
                    self.screen.say("That was the last hint: `skip` shows the formula.", "dim")
                    continue
                pending["formula_hints"] = level + 1
                self.save()
                self.screen.formula_hint(self, step, level + 1)
            elif command == "skip":
                pending["formula"] = 2
                self.save()
                self.screen.formula_skipped(self, step)
                return "next"
            elif command == "back":
                return "back"
            elif command == "goto":
                if self.goto(text):
                    return "goto"
            else:
                self.other_command(command, step, pending)

    # reports ----------------------------------------------------------------------------------

    def section_status(self) -> list[tuple[str, int, int, int]]:
        """(section heading, steps done, steps asked, skipped) in the lesson's order."""
        rows = []
        for section, heading in SECTIONS.items():
            asked = [s for s in self.asked if s.section == section]
            if not asked:
                continue
            done = [s for s in asked if self.state.done(s.qid)]
            skipped = [s for s in done if self.state.records[s.qid].status == progress.SKIPPED]
            rows.append((heading, len(done), len(asked), len(skipped)))
        return rows


def skill_accuracy(state: Progress, asked: list[Step], catalogue: Mapping) -> list[tuple[str, int, int]]:
    """(skill, right at the first try, answered in the walk) per skill, in the order skills appear."""
    counts: dict[str, list[int]] = {}
    for s in asked:
        skill = catalogue[s.qid].skill
        counts.setdefault(skill, [0, 0])
        r = state.records.get(s.qid)
        if r is not None and r.status in (progress.RIGHT, progress.SKIPPED):
            counts[skill][1] += 1
            counts[skill][0] += r.first_try
    return [(k, v[0], v[1]) for k, v in counts.items()]
