"""What the interactive lesson shows: step screens, hints, tables, the diagram, the summary.

``Screen`` is the presentation half of ``backprop_tutor.walk.Walk``.  Equations come from the symbolic
layer (imported when the first step is drawn) and are printed as Rich ``Text``, never markup.
Answers are judged and reported exactly as ``backprop-tutor check`` reports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backprop_tutor import answers, catalogue, diagram, progress, story
from backprop_tutor.answers import MIN_DIGITS
from backprop_tutor.catalogue import SECTIONS
from backprop_tutor.render import Out, _fit, _say, _text, check_result, print_diagram, print_lines, to_ascii, unicode_ok

if TYPE_CHECKING:
    from rich.console import Console

    from backprop_tutor.derivations import Derivations
    from backprop_tutor.walk import Step, Walk

BAR = 24
STEP_ROWS = 16  # the rows of a step screen besides the network's picture: heading, equation, prompt, verdict
OUTLINE_MOST = 40  # steps listed per section by `outline`
STATUS = {progress.RIGHT: "right", progress.SKIPPED: "skipped", progress.CHECKED: "checked",
          progress.SHOWN: "shown"}


class Screen:
    def __init__(self, console: Console, out: Out, resume_command: str = "backprop-tutor start"):
        self.console, self.out = console, out
        self.resume_command = resume_command
        self._derivations: Derivations | None = None
        self.unicode = unicode_ok(console)
        self._first_update: str | None = None  # the walk's first update step (where "why before" is told)

    # helpers ----------------------------------------------------------------------------------

    def say(self, text: str, style: str = "") -> None:
        _say(self.console, text, style)

    def text(self, text: str, style: str = "") -> None:
        from rich.text import Text

        self.console.print(Text(_fit(self.console, " ".join(text.split())), style=style), overflow="fold")

    def warn(self, text: str) -> None:
        self.say(f"Note: {text}", "yellow")

    def error(self, text: str) -> None:
        self.say(f"✗ {text}", "red")

    def derivation(self, walk: Walk, qid: str):
        """The drawn derivation (from the cache of a bundled lesson, or derived by the symbolic layer)."""
        if self._derivations is None:
            from backprop_tutor.derivations import Derivations

            s = walk.session
            self._derivations = Derivations(s.lesson, s.trace, s.catalogue)
        return self._derivations.get(qid)

    def equations(self, derived) -> None:
        from backprop_tutor import derivations

        print_lines(self.console, derivations.lines(derived, unicode=self.unicode, width=self.console.width))

    def where(self, walk: Walk, step: Step) -> str:
        asked = walk.asked
        n = next((k for k, s in enumerate(asked) if s.qid == step.qid), 0) + 1
        done = sum(1 for s in asked if walk.state.done(s.qid))
        filled = round(BAR * done / len(asked)) if asked else BAR
        bar = "━" * filled + "─" * (BAR - filled)
        return f"{SECTIONS[step.section]} · step {n} of {len(asked)}  {bar} {done * 100 // max(len(asked), 1)}%"

    def value(self, v: float) -> str:
        return catalogue.post_digits(v)

    # the walk ---------------------------------------------------------------------------------

    def intro(self, walk: Walk) -> None:
        lesson = walk.session.lesson
        self.say(lesson.title, "bold")
        self.text(lesson.description)
        self.console.print()
        self.diagram(walk)
        self.console.print()
        if lesson.intro:
            self.text(lesson.intro)
        self.text(f"You compute every value by hand, one step at a time. Type each value as you get it, with at "
                  f"least {MIN_DIGITS} significant digits, or a command: hint, skip, explain, more, outline, "
                  "goto NAME, table, diagram, back, quit, help. Your progress is saved after every step.", "dim")

    def resume(self, walk: Walk, step: Step) -> None:
        done = sum(1 for s in walk.asked if walk.state.done(s.qid))
        self.say(f"Welcome back to {walk.session.lesson.title}.", "bold")
        self.text(f"{done} of {len(walk.asked)} steps done. Resuming at "
                  f"{walk.session.catalogue[step.qid].symbol} ({SECTIONS[step.section].lower()}). "
                  "`backprop-tutor start --restart` starts over.")

    def framing(self, walk: Walk, step: Step) -> None:
        """At the first step of a section: what the section is for and the chain it follows; at the first
        update, why every gradient uses the weights before the update."""
        n = walk.index[step.qid]
        if n == 0 or walk.steps[n - 1].section != step.section:
            lines = story.framing(step.section, walk.session.catalogue, [s.qid for s in walk.steps],
                                  walk.session.trace)
            if lines:
                self.console.print()
                self.say(catalogue.SECTIONS[step.section], "bold cyan")
                for line in lines:
                    self.text(line, "cyan")
        if self._first_update is None:
            found = next((s.qid for s in walk.steps if s.qid.endswith("+") and s.section != "after"), "")
            self._first_update = found
        if step.qid == self._first_update:
            self.console.print()
            self.text(story.WHY_BEFORE, "cyan")

    def step(self, walk: Walk, step: Step) -> None:
        self.formula_step(walk, step)  # the heading, then the equation and the values it needs
        q = walk.session.catalogue[step.qid]
        from backprop_tutor import derivations

        self.equations(derivations.statement(self.derivation(walk, step.qid)))
        known = walk.known()
        needs = [d for d in dict.fromkeys(q.deps)]
        if needs:
            parts = [f"{catalogue.symbol(d)} = {self.value(known[d]) if d in known else '? (not done yet)'}"
                     for d in needs]
            self.text("You have: " + ", ".join(parts), "dim")
        n = walk.index[step.qid]
        note = story.delta_note(walk.session.catalogue, walk.steps[n - 1].qid if n else None, step.qid)
        if note:
            self.text(note, "cyan")
        for e in walk.session.errata_for(step.qid):
            if e.wrote:
                self.text(f"Note: in this section the original writes {e.wrote}. {e.why}", "yellow")

    def prompt(self, walk: Walk, step: Step) -> str:
        symbol = walk.session.catalogue[step.qid].symbol
        return f"{symbol if self.unicode else to_ascii(symbol)} = "

    def confirm_prompt(self, level: int) -> str:
        return f"Hint {level} of 3 gives more of the answer away. Show it? [y/N] "

    def explain_prompt(self, walk: Walk, step: Step) -> str:
        symbol = walk.session.catalogue[step.qid].symbol
        return (f"The derivation shows {symbol if self.unicode else to_ascii(symbol)}; the step then does not "
                "count as a first try. Show it? [y/N] ")

    def unknown_command(self, text: str) -> None:
        import difflib

        from backprop_tutor.walk import _ALIASES

        close = difflib.get_close_matches(text.strip().lower(), list(_ALIASES), n=1, cutoff=0.6)
        hint = f" Did you mean `{_ALIASES[close[0]]}`?" if close else ""
        self.error(f"'{text.strip()[:40]}' is not a number or a command.{hint} `help` lists the commands.")

    def feedback(self, walk: Walk, step: Step, result) -> None:
        if result.verdict == answers.RIGHT:  # one line: `more` shows the formula and every digit
            self.say(f"✓ right: {result.quantity.symbol} = {result.typed.text}", "bold green")
            return
        check_result(self.out, result, "`explain` (at this prompt)")

    def more(self, walk: Walk) -> None:
        """The last right answer's formula, with its numbers, and its value at full precision."""
        r = walk.last_right
        if r is None:
            self.say("`more` shows the formula and full precision of your last right answer: none yet.", "dim")
            return
        q = r.quantity
        pad = " " * (len(q.symbol) + 3)
        self.say(f"{q.symbol}: {q.meaning}", "dim")
        self.say(f"  {r.formula}")
        self.say(f"  {pad}= {r.worked}")
        self.say(f"  {pad}= {catalogue.full_digits(r.value)}", "bold")

    def outline(self, walk: Walk, current: Step) -> None:
        """Every section with its steps: ✓ done, ▶ here; the steps shown (not asked) are left out."""
        self.say("The lesson's outline (`goto NAME` goes to a step):", "bold")
        for section, heading in catalogue.SECTIONS.items():
            asked = [s for s in walk.asked if s.section == section]
            if not asked:
                continue
            done = sum(1 for s in asked if walk.state.done(s.qid))
            self.say(f"{heading}: {done} of {len(asked)} done", "bold" if current.section == section else "")
            marks = []
            if len(asked) > OUTLINE_MOST:  # a big lesson: the steps around where you are, and a count
                here = next((k for k, s in enumerate(asked) if s.qid == current.qid), 0)
                low = max(0, min(here - OUTLINE_MOST // 2, len(asked) - OUTLINE_MOST))
                shown = asked[low:low + OUTLINE_MOST]
                if low:
                    marks.append(f"… {low} before")
            else:
                shown = asked
            for s in shown:
                mark = "▶ " if s.qid == current.qid else ("✓ " if walk.state.done(s.qid) else "")
                marks.append(mark + walk.session.catalogue[s.qid].symbol)
            if len(asked) > OUTLINE_MOST and (after := len(asked) - len(shown) - asked.index(shown[0])) > 0:
                marks.append(f"… {after} more")
            self.text("  " + ", ".join(marks), "" if current.section == section else "dim")

    # the formula stage (start --formulas) ----------------------------------------------------

    def formula_step(self, walk: Walk, step: Step) -> None:
        """The step's heading, without its equation: that is what the learner writes first."""
        q = walk.session.catalogue[step.qid]
        self.framing(walk, step)
        self.console.print()
        self.console.rule(style="dim", characters="─" if self.unicode else "-")
        self.say(self.where(walk, step), "dim")
        self.say(f"Compute {q.symbol}: {q.meaning}", "bold")
        override = walk.session.lesson.step_texts.get(step.qid)
        if override:
            self.text(override)
        self.path_picture(walk, step)

    def formula_intro(self, walk: Walk, step: Step) -> None:
        self.text("First write the formula, in the names of the quantities (out_o1, delta_o1, dE/dw5, w5, "
                  "eta …), with + - * / ^ ( ) and σ, exp, ln, tanh, max(0, …); then compute its value.", "dim")

    def formula_prompt(self, walk: Walk, step: Step) -> str:
        symbol = walk.session.catalogue[step.qid].symbol
        return f"formula: {symbol if self.unicode else to_ascii(symbol)} = "

    def formula_error(self, e: Exception) -> None:
        self.error(str(e))
        for line in getattr(e, "detail", ()):
            self.out.say(line)

    def formula_feedback(self, walk: Walk, step: Step, result) -> None:
        from backprop_tutor.render import formula_result

        formula_result(self.out, result)

    def formula_hint(self, walk: Walk, step: Step, level: int) -> None:
        q = walk.session.catalogue[step.qid]
        self.say(f"Hint {level} of 3 (the formula)", "bold yellow")
        parts = ", ".join(catalogue.symbol(d) for d in dict.fromkeys(q.deps))
        if level == 1:
            derived = self.derivation(walk, step.qid)
            note = derived.blocks[0].note.rstrip(":.") + "." if derived.blocks and derived.blocks[0].note else ""
            self.text(f"{q.symbol} is built from {parts}. {note}")
        elif level == 2:
            from backprop_tutor import derivations

            self.equations(derivations.statement(self.derivation(walk, step.qid)))
        else:
            self.text(f"{q.symbol} = {catalogue.describe_formula(q)}")

    def formula_skipped(self, walk: Walk, step: Step) -> None:
        q = walk.session.catalogue[step.qid]
        self.say(f"Skipped. {q.symbol} = {catalogue.describe_formula(q)}", "yellow")

    def now_the_number(self, walk: Walk, step: Step) -> None:
        q = walk.session.catalogue[step.qid]
        self.say(f"Now compute the value of {q.symbol}.", "bold")
        known = walk.known()
        needs = list(dict.fromkeys(q.deps))
        if needs:
            parts = [f"{catalogue.symbol(d)} = {self.value(known[d]) if d in known else '? (not done yet)'}"
                     for d in needs]
            self.text("You have: " + ", ".join(parts), "dim")

    def shown(self, walk: Walk, step: Step) -> None:
        q = walk.session.catalogue[step.qid]
        if "@" in q.id and not q.id.startswith(("dE_total/d", "E_total@")):
            return  # another sample's intermediate values: its error and gradients are what the batch needs
        if "@" in q.id:
            self.say(f"{q.symbol} = {self.value(walk.session.trace[q.id])}  ({q.meaning})", "dim")
            return
        self.text(f"{q.symbol} = {catalogue.describe_formula(q)} = "
                  f"{self.value(walk.session.trace[step.qid])} (the same kind of step as before: shown, not asked)",
                  "dim")

    def hint_lines(self, walk: Walk, step: Step, level: int) -> list[tuple[str, str]]:
        """What hint ``level`` shows, as (kind, text) lines: "text", or the kinds of a drawn derivation.
        Level 1 asks a question; 2 shows the derivation without numbers; 3 puts the numbers in."""
        from backprop_tutor import derivations

        q = walk.session.catalogue[step.qid]
        if level == 1:
            asked = story.question(q, walk.session.catalogue, self.activation_of(walk, q))
            if asked:
                return [("text", asked)]
            derived = self.derivation(walk, step.qid)
            note = derived.blocks[0].note.rstrip(":.") + "." if derived.blocks and derived.blocks[0].note else ""
            deps = ", ".join(catalogue.symbol(d) for d in dict.fromkeys(q.deps))
            return [("text", f"{q.symbol} is built from {deps}. {note}")]
        if level == 2:
            drawn = derivations.symbols_only(self.derivation(walk, step.qid))
            return list(derivations.lines(drawn, unicode=self.unicode, width=self.console.width))
        numbers, missing = self.numbers(walk, q)
        if numbers:
            return [("text", f"Put the numbers in: {q.symbol} = {numbers}")]
        return [("text", f"Put the numbers in: {q.symbol} = {catalogue.describe_formula(q)}, with "
                 + self.have(walk, q) + ". " + self.still_to_do(missing))]

    def activation_of(self, walk: Walk, q) -> str:
        """The activation of the neuron a step is about (net_h1, out_h1, ∂out_h1/∂net_h1 → h1's)."""
        import re

        m = re.search(r"(?:out|net)_([a-z]\d+)", q.id)
        if m is None:
            return ""
        net = walk.session.lesson.network
        layer = next((l for l, names in enumerate(net.layout.neurons) if m[1] in names), 0)
        return net.activations[layer - 1] if layer else ""

    def hint(self, walk: Walk, step: Step, level: int, lines: list[tuple[str, str]] | None = None) -> None:
        self.say(f"Hint {level} of 3", "bold yellow")
        for kind, text in lines if lines is not None else self.hint_lines(walk, step, level):
            if kind == "text":
                self.text(text)
            else:
                print_lines(self.console, [(kind, text)])

    def numbers(self, walk: Walk, q) -> tuple[str | None, list[str]]:
        """The formula with the values of its parts, or None and the parts the learner has not done."""
        known = walk.known()
        missing = [d for d in dict.fromkeys(q.deps) if d not in known]
        return (None if missing else catalogue.describe_formula(q, known)), missing

    def have(self, walk: Walk, q) -> str:
        known = walk.known()
        parts = [f"{catalogue.symbol(d)} = {self.value(known[d])}" for d in dict.fromkeys(q.deps) if d in known]
        return ", ".join(parts) if parts else "none of its parts done yet"

    def still_to_do(self, missing: list[str]) -> str:
        names = ", ".join(catalogue.symbol(d) for d in missing)
        return f"Still to be computed: {names} (`back` goes to the steps before this one)."

    def advice(self, walk: Walk, step: Step, findings) -> None:
        """The hint after a diagnosed answer: the rule the mistake breaks, or where the value came from."""
        from backprop_tutor.mistakes import BY_ID

        q = walk.session.catalogue[step.qid]
        formula = f"{q.symbol} = {catalogue.describe_formula(q)}"
        other = {"sign": "The size is right: go through the sign of each term again.",
                 "power-of-ten": "The digits are right: count the decimal places again.",
                 "other-quantity": f"Compute {q.symbol} itself: {formula}.",
                 "rounding": "Keep at least 6 significant digits in every value you carry from step to step.",
                 "typo": "Compare the value you typed with your working, digit by digit."}
        self.say("Hint: about your last answer", "bold yellow")
        for f in findings:
            if f.kind == "mistake" and f.id in BY_ID:
                self.text(f"Revisit the rule: {BY_ID[f.id].teach}")
            elif f.kind == "mistake":  # a factor or term of this step left out, replaced or added
                self.text(f"Build it from its parts, each once: {formula}.")
            elif f.id in other:
                self.text(other[f.id])
            elif f.kind == "carried":  # the finding names the value to fix first
                self.text(f"{f.text} `table` shows the values you have.")
            else:
                self.text(f.text)
        self.say("Type `hint` again for the hints on this step.", "dim")

    def worked(self, walk: Walk, step: Step, skipped: bool = False) -> None:
        q = walk.session.catalogue[step.qid]
        value = walk.session.trace[step.qid]
        self.say(f"Skipped. {q.symbol} = {catalogue.describe_formula(q)}", "yellow")
        numbers, missing = self.numbers(walk, q)
        if numbers:
            self.say(f"  = {numbers}")
        else:
            self.text(f"  with {self.have(walk, q)}. {self.still_to_do(missing)}", "dim")
        self.say(f"  = {catalogue.full_digits(value)}", "bold")

    def explain(self, walk: Walk, step: Step) -> None:
        from backprop_tutor.render import derivation

        s = walk.session
        derivation(self.console, s.lesson, self.derivation(walk, step.qid), s.errata_for(step.qid))

    def diagram(self, walk: Walk, step: Step | None = None, height: int | None = None) -> bool:
        """The network with the values the learner has; at a step, its path marked. With ``height``, only
        if it fits in that many rows (and without the network's shape). True when drawn."""
        s = walk.session
        lines = diagram.picture(s.lesson.network, walk.known(), step=step.qid if step else None,
                                catalogue=s.catalogue, width=self.console.width, unicode=self.unicode, height=height,
                                title=height is None)
        print_diagram(self.console, lines)
        return bool(lines)

    def path_picture(self, walk: Walk, step: Step) -> None:
        """At a backward step with connections to mark, the picture with its path, where the terminal
        is tall enough for it and the rest of the step screen."""
        s = walk.session
        if step.section not in diagram.BACKWARD or not diagram.path(s.lesson.network, s.catalogue, step.qid):
            return
        room = self.console.height - STEP_ROWS
        if room > 0 and self.diagram(walk, step, height=room - 1):
            self.console.print()

    def help(self) -> None:
        from backprop_tutor.walk import COMMANDS

        self.say("Type the value you computed (0.3775, .3775, 3.775e-1), or one of:", "bold")
        for name, (shorts, what) in COMMANDS.items():
            self.say(f"  {name:<8} {', '.join(shorts):<8} {what}")

    def table(self, walk: Walk, title: str = "What you know so far") -> None:
        from rich.table import Table

        s = walk.session
        table = Table(title=_text(self.console, title), title_justify="left")
        for column in ("quantity", "value", "how"):
            table.add_column(column, no_wrap=column != "how")
        for step in walk.steps:
            r = walk.state.records.get(step.qid)
            if r is None:
                continue
            q = s.catalogue[step.qid]
            table.add_row(_fit(self.console, q.symbol), self.value(s.trace[step.qid]), how(r))
        self.console.print(table)

    def still_open(self, walk: Walk, left: list[Step]) -> None:
        first = walk.session.catalogue[left[0].qid].symbol
        self.console.print()
        self.say(f"That was the last step, but {len(left)} step{'s are' if len(left) != 1 else ' is'} still "
                 f"open: back to {first}.", "bold yellow")

    def stopped(self, walk: Walk) -> None:
        total = len(walk.asked)
        held = walk.done_count(walk.store.held)
        self.console.print()
        if walk.save_problem is None:
            self.say(f"Saved: {held} of {total} steps done. Resume with: {self.resume_command}", "bold")
            return
        self.say(f"Not saved: your progress file holds {held} of {total} steps done, not the {walk.done_count()} "
                 "you have done (see the note above).", "bold red")

    def summary(self, walk: Walk) -> None:
        """The end: the three rules, the learner's figures in a few lines, where the original is wrong, and
        the lesson to do next. (`backprop-tutor progress` has every step; `table` in the walk every value.)"""
        s = walk.session
        self.console.print()
        self.say(f"You have worked through {s.lesson.title}.", "bold green")
        rules = story.rules(s.catalogue)
        if rules:
            self.console.print()
            self.say("The three rules of the backward pass:", "bold")
            for line in rules:
                self.text(line)
            self.text("Then every weight takes its step, all together: w⁺ = w − η·∂E_total/∂w.")
        self.console.print()
        self.say("Your figures:", "bold")
        if "E_total" in s.trace and "E_total+" in s.trace:
            self.text(f"E_total went from {self.value(s.trace['E_total'])} to {self.value(s.trace['E_total+'])} "
                      "with one step of gradient descent.")
        answered = [walk.state.records[st.qid] for st in walk.asked
                    if walk.state.records.get(st.qid) and walk.state.records[st.qid].status != progress.CHECKED]
        first = sum(r.first_try for r in answered)
        hints = sum(r.hints for r in walk.state.records.values())
        explained = sum(r.explained for r in answered)
        skipped = sum(r.status == progress.SKIPPED for r in answered)
        extra = (f" Skipped: {skipped}." if skipped else "") + (f" Explained before answering: {explained}."
                                                                 if explained else "")
        self.say(f"Right at the first try: {first} of {len(answered)}. Hints used: {hints}.{extra}", "bold")
        trouble = [st.qid for st in walk.asked if (r := walk.state.records.get(st.qid)) is not None
                   and r.status != progress.CHECKED and not r.first_try]
        if trouble:
            names = ", ".join(s.catalogue[q].symbol for q in trouble[:6]) + (" …" if len(trouble) > 6 else "")
            self.text(f"Worth another look: {names}. `backprop-tutor explain NAME` derives any of them.")
        met = {qid for _, qid in walk.state.mistakes} | {q for q, r in walk.state.records.items() if r.attempts}
        for e in s.lesson.errata:
            qid = s.resolver.resolve(e.quantity).id
            self.console.print()
            if e.wrote:
                self.text(f"Where the original slips: at {s.catalogue[qid].symbol} it writes {e.wrote} "
                          "(a slip of the text, shown at that step; its numbers are right).", "yellow")
                continue
            self.say(f"Where the original is wrong: it prints {e.printed} for {s.catalogue[qid].symbol}; "
                     f"the right value is {self.value(s.trace[qid])}.", "bold yellow")
            if qid not in met:  # the learner has not read it at the step already
                self.text(e.why, "dim")
        self.console.print()
        bundled = bundled_lesson_names()
        after = story.next_lesson(s.lesson.name, bundled) if s.lesson.name in bundled else None
        if after is not None:
            from backprop_tutor.lesson import load

            self.text(f"Next: {load(after).title}: `backprop-tutor start --lesson {after}`.", "bold")
        self.text("Also: `backprop-tutor train --epochs 10000` shows the network learning over many updates; "
                  "`backprop-tutor lessons` lists every lesson; `backprop-tutor progress` shows your record.")


def bundled_lesson_names() -> list[str]:
    from backprop_tutor.lesson import bundled_names

    return bundled_names()


def how(r: progress.Record) -> str:
    if r.status == progress.RIGHT:
        if r.first_try:
            return "first try"
        parts = ["the explanation"] if r.explained else []
        if r.attempts:
            parts.append(f"{r.attempts} wrong attempt{'s' if r.attempts != 1 else ''}")
        if r.hints:
            parts.append(f"hint {r.hints}")
        return "right after " + ", ".join(parts)
    return STATUS.get(r.status, r.status) + (" after the explanation" if r.explained else "")
