"""The command line: parse → domain → render → exit code.

Command functions are thin; they import what they need inside, so that ``check`` never
pays for SymPy or Rich tables.  Every bad input becomes one line on stderr and exit code 2
(``handled``, and ``TutorGroup.main`` for Typer's own usage errors).
"""

from __future__ import annotations

import errno
import functools
import math
import os
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from backprop_tutor import __version__
from backprop_tutor.errors import BAD_INPUT, TutorError
from backprop_tutor.safe_text import echo, json_text, printable
from backprop_tutor.startup import resume_collector

F = TypeVar("F", bound=Callable[..., Any])


def _untyped_flags(command: Any, ctx: Any) -> None:
    """A flag takes no value: its help shows no `<bool>` type beside it."""
    for param in command.get_params(ctx):
        if getattr(param, "is_flag", False):
            param.metavar = ""


def reflow(help_text: str) -> str:
    """A help text as Typer shows it: one line per paragraph, wrapped only at the terminal's width
    (Typer keeps the line breaks of a docstring, which break phrases on a narrower terminal)."""
    import inspect

    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


class TutorCommand(TyperCommand):
    def format_help(self, ctx: Any, formatter: Any) -> None:
        _untyped_flags(self, ctx)
        super().format_help(ctx, formatter)


class TutorGroup(TyperGroup):
    """Typer's group, with usage errors reported in one line instead of a box."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _untyped_flags(self, ctx)
        super().format_help(ctx, formatter)

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        if os.environ.get(complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()):
            from backprop_tutor.completion import register

            register()  # bash completion that keeps `net_h1@2` and `--lesson=x` in one word
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def main(self, args: Any = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        from backprop_tutor.render import error_line

        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as e:  # click's usage errors, in Typer's copy of click
            message = e.format_message() if hasattr(e, "format_message") else str(e)
            ctx = getattr(e, "ctx", None)
            where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            error_line(f"{message}{where}")
            sys.exit(getattr(e, "exit_code", BAD_INPUT))
        except typer.Abort:
            error_line("aborted")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


class ArgumentsFirst(TutorCommand):
    """A command whose arguments may begin with a minus sign: ``check dE/dw5 -0.0226`` and
    ``check dE/dw5 "-(target_o1 - out_o1)*…"`` are a value and a formula, never options. Only the
    command's own option names are options; everything else is an argument."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        options = {name: getattr(p, "is_flag", False) or getattr(p, "count", False)
                   for p in self.get_params(ctx) if p.param_type_name == "option"
                   for name in (*p.opts, *p.secondary_opts)}
        named: list[str] = []
        positional: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                positional.extend(rest)
                break
            name = arg.split("=", 1)[0]
            if name in options:
                named.append(arg)
                if "=" not in arg and not options[name]:
                    following = next(rest, None)
                    if following is not None:
                        named.append(following)
            else:
                positional.append(arg)
        return super().parse_args(ctx, [*named, "--", *positional] if positional else named)


def handled(command: F) -> F:
    """Turn the domain's errors into one line on stderr and their exit code."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from backprop_tutor.render import error_line

        resume_collector()
        try:
            return command(*args, **kwargs)
        except TutorError as e:
            error_line(str(e))
            for line in getattr(e, "detail", ()):  # a formula's error: the formula, a caret under the problem
                print(line, file=sys.stderr)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            error_line("interrupted")
            raise typer.Exit(130) from None
    return wrapper  # type: ignore[return-value]


app = typer.Typer(
    cls=TutorGroup,
    name="backprop-tutor",
    help="Learn backpropagation by doing it by hand, on the classic 2-2-2 worked example and more.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"backprop-tutor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (NO_COLOR works too).")] = False,
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Learn backpropagation by doing it by hand, on the classic 2-2-2 worked example and more."""
    ctx.obj = {"no_color": no_color}


def _no_color(ctx: typer.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("no_color"))


def _console(ctx: typer.Context):  # Rich is imported only by the commands that draw tables
    from backprop_tutor.render import make_console

    return make_console(no_color=_no_color(ctx))


def _out(ctx: typer.Context):
    from backprop_tutor.render import Out

    return Out(no_color=_no_color(ctx))


def _complete_name(ctx: typer.Context, incomplete: str) -> list[str]:
    from backprop_tutor import catalogue, completion, lesson

    try:
        cat = catalogue.build(lesson.load((ctx.params or {}).get("lesson")).network)
    except TutorError:
        return []
    return completion.names(cat, incomplete)


def _complete_lesson(incomplete: str) -> list[str]:
    from backprop_tutor.lesson import bundled_names

    return [n for n in bundled_names() if n.startswith(incomplete)]


LessonOption = Annotated[
    str | None,
    typer.Option("--lesson", "-l", metavar="NAME|PATH", autocompletion=_complete_lesson,
                 help="A bundled lesson (see `backprop-tutor lessons`) or a lesson file. Default: post."),
]

RandomOption = Annotated[bool, typer.Option("--random", help="Fresh random numbers of the lesson's shape.")]
SeedOption = Annotated[int | None, typer.Option("--seed", metavar="N", min=0,
                                                help="The seed of --random: the same seed, the same numbers.")]


def _lesson(lesson: str | None, random: bool = False, seed: int | None = None, need_seed: bool = False):
    """The lesson asked for, with fresh numbers for --random/--seed (a new seed is chosen and shown)."""
    from backprop_tutor.lesson import load, randomized

    chosen = load(lesson)
    if not random and seed is None:
        return chosen
    if seed is None:
        if need_seed:
            raise TutorError("--random needs --seed N here: the seed of the exercise you worked on "
                             "(`backprop-tutor start --random` and `key --random` show it)")
        import secrets

        seed = secrets.randbelow(10_000)
        print(f"Fresh numbers: seed {seed}. `--random --seed {seed}` gives the same ones again.", file=sys.stderr)
    return randomized(chosen, seed)


CHECK_HELP = """Check one value you computed by hand.

NAME is any quantity of the lesson: out_h1, E_total, dE/dw5, delta_o1, dE_o2/dout_h1, w5 (the
updated weight w5+), E_total+ (the error after the update) … `backprop-tutor quantities` lists them.

VALUE is read as you type it: 0.3589, .3589, 0,3589, 3.589e-1, -0.0226. It may also be a formula in
the quantities' names, quoted: "delta_o1*out_h1", "-(target_o1 - out_o1)*out_h1" (see the README).

How a value is judged, by the digits you typed:

* right: it agrees with the true value at your last digit, give or take one unit there (rounded
or truncated), and has at least 3 significant digits; exact values such as 0.05 are right as typed.

* right method, carry more digits: it is off only by what rounding every intermediate value to
about 4 significant digits causes.

* give more digits: it agrees (rounded or truncated), but with fewer than 3 significant digits it
cannot tell a right method from a wrong one (0.0004 for 0.000438568; 1 for 0.3775 is not right).

* not right: anything else. You see the formula and the parts to check, never the value.

Exit codes: 0 right (also "carry more digits"), 1 not right, 3 give more digits, 2 bad input.

Example: backprop-tutor check dE/dw5 0.082167041
"""


@app.command(cls=ArgumentsFirst, help=CHECK_HELP)
@handled
def check(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The quantity, e.g. w5, dE/dw1, out_h1.", metavar="NAME",
                                        autocompletion=_complete_name, show_default=False)],
    value: Annotated[str, typer.Argument(help="The value you computed, e.g. 0.35891648.", metavar="VALUE",
                                         show_default=False)],
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object for a grader.")] = False,
) -> None:
    from backprop_tutor.checking import CheckResult, Session

    session = Session(_lesson(lesson, random, seed, need_seed=True))
    store = _store(session.lesson)
    state = _load_progress(store, session.trace)
    result = session.check_any(name, value, state)
    if isinstance(result, CheckResult):  # a formula's verdict is not remembered as a value
        _remember_check(store, state, result)
    elif hasattr(result, "entries"):  # a vector or matrix: each entry judged as typed is remembered
        if not getattr(result, "transposed", False):
            for _, _, entry in result.entries:
                _remember_check(store, state, entry)
    if json_out:
        print(json_text(result.as_dict()))
    else:
        from backprop_tutor.render import check_result, formula_result

        if hasattr(result, "entries"):
            from backprop_tutor.matrixview import result_lines

            out = _out(ctx)
            for line, style in result_lines(result):  # type: ignore[arg-type]
                out.say(line, style)
        elif isinstance(result, CheckResult):
            check_result(_out(ctx), result)
        else:
            formula_result(_out(ctx), result)
    raise typer.Exit(result.exit_code)


def _remember_check(store, state, result) -> None:
    """A value confirmed with `check` counts as done in the walk; a wrong one is kept for diagnosis.

    Only this change is saved, merged into the file as it is then: what `check` read at its start
    (and another process may have changed since, a `reset` say) is not written back."""
    from backprop_tutor import answers
    from backprop_tutor.progress import CHECKED, Progress, Record

    qid = result.quantity.id
    change = Progress(state.lesson, position=state.position)
    if result.accepted:
        if qid in state.records:
            return
        change.records[qid] = Record(CHECKED, result.value, typed=result.typed.text, skill=result.quantity.skill)
    elif result.verdict == answers.WRONG:
        change.note_wrong(qid, result.typed.text, result.counted)
    else:
        return
    if store.refused:
        return  # said when loading
    problem = store.save(change)
    _warn([*change.warnings, *([problem] if problem else [])])


def _load_progress(store, trace):
    """The lesson's progress; what had to be repaired or moved aside is said on stderr, every time."""
    state = store.load(trace)
    _warn(state.warnings)
    state.warnings.clear()
    return state


def _warn(problems: list[str]) -> None:
    for problem in problems:
        print(f"backprop-tutor: warning: {printable(problem)}", file=sys.stderr)


@app.command(cls=TutorCommand)
@handled
def quantities(ctx: typer.Context, lesson: LessonOption = None) -> None:
    """List every name `check` accepts, with its symbol and meaning.

    Example: backprop-tutor quantities --lesson post
    """
    from backprop_tutor.catalogue import build
    from backprop_tutor.lesson import load
    from backprop_tutor.render import quantities_table

    chosen = load(lesson)
    quantities_table(_console(ctx), chosen, build(chosen.network))


@app.command(cls=TutorCommand)
@handled
def lessons(ctx: typer.Context) -> None:
    """List the bundled lessons, with your progress in each.

    Example: backprop-tutor lessons
    """
    from backprop_tutor.checking import Session
    from backprop_tutor.lesson import bundled_names, load
    from backprop_tutor.render import lessons_table
    from backprop_tutor.story import suggested
    from backprop_tutor.walk import lesson_steps

    rows = []
    for name in suggested(bundled_names()):
        lesson = load(name)
        session = Session(lesson)
        asked = [s.qid for s in lesson_steps(session) if s.asked]
        state = _load_progress(_store(lesson), session.trace)
        done = sum(1 for q in asked if state.done(q))
        status = "not started" if not done else ("done" if done == len(asked) else f"{done} of {len(asked)} steps")
        rows.append((lesson, status))
    lessons_table(_console(ctx), rows)


@app.command(cls=TutorCommand)
@handled
def explain(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The quantity, e.g. out_h1, dE/dw5, dE/dw1, w5.", metavar="NAME",
                                        autocompletion=_complete_name, show_default=False)],
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    latex: Annotated[bool, typer.Option("--latex", help="Print the derivation as LaTeX (an align* block).")] = False,
    matrix: Annotated[bool, typer.Option("--matrix", help="NAME is a matrix (W2, delta_o, dE/dW2, z1 … or all): "
                                         "drawn with the lesson's numbers, each entry labelled.")] = False,
) -> None:
    """Show how a quantity is computed: definition, chain rule, each factor, the numbers, the value.

    The equations are built and differentiated by SymPy from the network's definitions (for a
    bundled lesson, drawn once and kept in the user's cache directory).

    Example: backprop-tutor explain dE/dw1
    """
    from backprop_tutor import derivations
    from backprop_tutor.checking import Session
    from backprop_tutor.errors import GivenQuantity

    session = Session(_lesson(lesson, random, seed, need_seed=True))
    if matrix:
        from backprop_tutor import matrixview

        found = matrixview.matrices(session.lesson.network, session.trace)
        out = _out(ctx)
        for line in matrixview.explain(found, name):
            out.say(line)
        return
    try:
        qid = session.resolver.resolve(name).id
    except GivenQuantity as e:
        qid = e.qid
    derivation = derivations.Derivations(session.lesson, session.trace, session.catalogue).get(qid)
    if latex:
        print(derivations.latex(derivation))
        return
    from backprop_tutor.render import derivation as show

    errata = session.errata_for(qid) if not derivation.quantity.given else []
    show(_console(ctx), session.lesson, derivation, errata)


VERIFY_TOLERANCE = 1e-12


def _working(ctx: typer.Context):
    """A progress display for long checks, on a terminal only (nothing in a pipe): a context manager
    that gives ``tell(stage, done, total)``."""
    import contextlib

    @contextlib.contextmanager
    def shown():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       console=_console(ctx), transient=True)
        tasks: dict[str, Any] = {}

        def tell(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        with bar:
            yield tell

    @contextlib.contextmanager
    def silent():
        yield None

    return shown() if sys.stdout.isatty() else silent()


def _reference(ctx: typer.Context, net, trace, tell):
    """The reference gradients beside the engine's, and the finite-difference check of the chain rule."""
    from backprop_tutor import symbolic

    rows = symbolic.verify(net, trace, tell)
    return rows, symbolic.finite_differences(net, progress=tell)


def _say_differences(out, check) -> None:
    n = len(check.parameters)
    out.say(f"{'✓' if check.ok else '✗'} central finite differences at {check.digits} digits on {n} "
            f"parameter{'s' if n != 1 else ''} (sample {check.sample}): the largest relative "
            f"difference from SymPy's chain rule is {check.worst:.1e}", "green" if check.ok else "red")


@app.command(cls=TutorCommand)
@handled
def verify(ctx: typer.Context, lesson: LessonOption = None,
           with_: Annotated[str | None, typer.Option(
               "--with", metavar="numpy|jax|torch",
               help="Also run the exported program of that library (where it is installed): a third oracle.")] = None,
           ) -> None:
    """Check the engine's gradients against SymPy's chain rule, computed independently at 40 digits.

    SymPy differentiates each definition (net, out, the error) by each thing it is written in; those
    derivatives, evaluated with mpmath at 40 digits and accumulated backwards over the network
    (reverse mode), give every gradient without the engine. Central finite differences at 40 digits
    check them again on a spread of parameters. Exit code 0 when every gradient agrees to 1e-12.

    With --with, the program `export --to` writes is run too, in a separate Python, and must agree.

    Example: backprop-tutor verify --lesson post --with numpy
    """
    from backprop_tutor.lesson import load
    from backprop_tutor.network import run as run_engine
    from backprop_tutor.render import verification

    chosen = load(lesson)
    if with_ is not None:
        from backprop_tutor import export_code

        target = export_code.check_target(with_)  # before SymPy's work: a bad name is one line at once
        export_code.require(target)
    with _working(ctx) as tell:
        if tell:
            tell("the engine", 0, 1)
        trace = run_engine(chosen.network)
        if tell:
            tell("the engine", 1, 1)
        rows, check = _reference(ctx, chosen.network, trace, tell)
    agree = verification(_console(ctx), chosen, rows, VERIFY_TOLERANCE)
    _say_differences(_out(ctx), check)
    if with_ is not None:
        ok, report = export_code.run_program(chosen.name, chosen.network, target)
        print(printable(report))
        agree = agree and ok
    if not agree or not check.ok:
        raise typer.Exit(1)


@app.command(cls=TutorCommand)
@handled
def graph(
    ctx: typer.Context,
    step: Annotated[str | None, typer.Option("--step", metavar="NAME", autocompletion=_complete_name,
                                             help="Stop at this quantity: net_h1, E_total, dE/dout_h1, delta_h1 …")
                    ] = None,
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    sample: Annotated[int, typer.Option("--sample", metavar="K", help="With several samples: the graph of "
                                        "sample K (from 1).")] = 1,
) -> None:
    """Draw the lesson as a computation graph: each value a node, with its local and accumulated gradient.

    The forward pass lists the nodes in topological order; the backward pass visits them in reverse,
    each node adding its share to the gradient of every node it uses (out_h1 gets two shares, one
    through o1 and one through o2, added). With --step, the graph up to that quantity.

    Example: backprop-tutor graph --step dE/dout_h1
    """
    from backprop_tutor import graph as graphs
    from backprop_tutor.checking import Session
    from backprop_tutor.errors import GivenQuantity

    session = Session(_lesson(lesson, random, seed, need_seed=True))
    net = session.lesson.network
    qid = None
    if step is not None:
        try:
            qid = session.resolver.resolve(step).id
        except GivenQuantity as e:
            qid = e.qid
    out = _out(ctx)
    if net.extra:  # one sample's graph: its quantities are the trace's net_h1@k …
        if not 1 <= sample <= len(net.samples):
            raise TutorError(f"--sample {sample}: this lesson has samples 1 to {len(net.samples)}")
        if qid is not None and "@" in qid:
            qid, _, at = qid.partition("@")
            sample = int(at.rstrip("+")) if at.rstrip("+").isdigit() else sample
        out.say(f"Sample {sample} of {len(net.samples)} (--sample K for another): its own error E_total@{sample} "
                "and gradients; the batch adds them up.", "dim")
        net = net.sample(sample)
    elif sample != 1:
        raise TutorError(f"--sample {sample}: this lesson has one sample")
    for line in graphs.draw(net, qid):
        out.say(line)


@app.command(cls=TutorCommand)
@handled
def diagram(
    ctx: typer.Context,
    step: Annotated[str | None, typer.Option("--step", metavar="NAME", autocompletion=_complete_name,
                                             help="Draw it as at this step: net_h1, delta_o1, dE/dout_h1, w5 …")
                    ] = None,
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    width: Annotated[int | None, typer.Option("--width", metavar="COLUMNS", min=30, max=1000,
                                              help="Draw it for this many columns (default: the terminal's).")
                     ] = None,
    ascii_: Annotated[bool, typer.Option("--ascii", help="Only ASCII characters (as where the terminal cannot "
                                         "show unicode).")] = False,
) -> None:
    """Draw the network like the original's figure: layers in columns, every connection with its weight.

    Each neuron shows its values; each connection leaves the neuron it starts from, so h1's w5 and w7
    sit together. With --step, the values as a learner has them at that step, the connections the
    step's computation runs along marked (━━▶; for dE/dout_h1 both paths out of h1), δ at each neuron
    once known, and the weights before the update until the section after it.

    Example: backprop-tutor diagram --step dE/dout_h1
    """
    from backprop_tutor import diagram as pictures
    from backprop_tutor.checking import Session
    from backprop_tutor.errors import GivenQuantity
    from backprop_tutor.render import print_diagram, unicode_ok
    from backprop_tutor.walk import known_at

    session = Session(_lesson(lesson, random, seed, need_seed=True))
    qid = None
    if step is not None:
        try:
            qid = session.resolver.resolve(step).id
        except GivenQuantity as e:
            raise TutorError(f"--step {echo(step)}: {e.qid} is given by the lesson, not a step "
                             "(`backprop-tutor quantities` lists the steps)") from None
    console = _console(ctx)
    net = session.lesson.network
    lines = pictures.picture(net, known_at(net, session.trace, session.catalogue, qid), step=qid,
                             catalogue=session.catalogue, width=width or console.width,
                             unicode=unicode_ok(console) and not ascii_)
    print_diagram(console, lines)


@app.command("what-if", cls=TutorCommand, context_settings={"ignore_unknown_options": True})
@handled
def what_if(
    ctx: typer.Context,
    changes: Annotated[list[str], typer.Argument(metavar="NAME=VALUE...", show_default=False,
                                                 help="Given values to change, e.g. w5=0.5 b1=0 eta=0.1.")],
    lesson: LessonOption = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="The gradient check: each gradient beside "
                                        "its central difference.")] = True,
    nudge: Annotated[str, typer.Option("--nudge", metavar="H", help="The h of the gradient check's nudges p ± h.")]
    = "0.0001",
) -> None:
    """Change given values and see what happens to the outputs, the error and every gradient.

    Then the gradient check: each gradient beside the central difference (E_total(p + h) − E_total(p − h)) / 2h,
    computed at 50 digits, with the bound of their difference (it is O(h²)).

    Example: backprop-tutor what-if w5=0.5 b1=0
    """
    from backprop_tutor import parallel
    from backprop_tutor.catalogue import givens, normalize
    from backprop_tutor.checking import Session
    from backprop_tutor.errors import GivenQuantity, UnknownQuantity
    from backprop_tutor.lesson import load
    from backprop_tutor.network import outcome, output_labels
    from backprop_tutor.render import what_if as show

    h = _nudge(nudge)
    session = Session(load(lesson))
    given = set(givens(session.catalogue))
    values: dict[str, float] = {}
    for change in changes:
        name, sep, text = change.partition("=")
        if not sep or not name.strip():
            raise TutorError(f"'{echo(change)}' is not a change: write NAME=VALUE, like w5=0.5")
        by_name = {normalize(q): q for q in given}
        if normalize(name) in by_name:  # w5 here is the given w5, not the updated w5⁺ of `check`
            values[by_name[normalize(name)]] = _given_value(by_name[normalize(name)], text)
            continue
        try:
            session.resolver.resolve(name)
        except GivenQuantity as e:
            qid = e.qid
        except UnknownQuantity:
            import difflib

            close = difflib.get_close_matches(name, sorted(given), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise TutorError(f"unknown given value '{echo(name)}'{hint} (what-if changes weights, biases, inputs, "
                             "targets and eta)") from None
        else:
            raise TutorError(f"'{echo(name)}' is computed, not given: what-if changes weights, biases, inputs, "
                             "targets and eta")
        values[qid] = _given_value(qid, text)
    net = session.lesson.network
    changed = net.with_givens(values)
    outputs = [label for label, _ in output_labels(net)]
    trained = net.layout.weight_names() + (net.layout.bias_names() if net.train_biases else [])
    names = [*outputs, "E_total", *[f"dE_total/d{p}" for p in trained], "E_total+"]

    def before() -> dict[str, float]:  # the exact values before the change, as shown (9 digits)
        return {q: float(session.trace[q]) for q in names}

    # On a big batch each piece is a pass over every sample at 50 digits: they run side by side with
    # the float run of the changed lesson (``parallel``).
    work = parallel.Pending([before, *(_gradient_check(session, changed, list(values), h) if check else [])],
                            fork=session.batch is not None)
    try:
        after, bad = outcome(changed)
    except BaseException:
        work.stop()
        raise
    if bad:
        work.stop()
        raise TutorError(f"with these values {bad} is no longer a finite number; try smaller ones")
    shown, *checked = work.results()
    out = _out(ctx)
    show(out, {q: (session.trace[q], v) for q, v in values.items()}, shown, after, names)
    if checked:
        from backprop_tutor.render import gradient_checks

        (checks, total), gradients = checked
        gradient_checks(out, checks, gradients, total, bool(values))


def _gradient_check(session, changed, first: list[str], h: Decimal) -> list:
    """what-if's gradient check, as two tasks: the central differences, and the exact gradients after the
    change that they are held against."""
    import dataclasses

    from backprop_tutor import gradcheck
    from backprop_tutor.checking import Session

    def gradients() -> dict[str, Decimal]:
        after = Session(dataclasses.replace(session.lesson, network=changed))
        return {p: after.exact[f"dE_total/d{p}"] for p in gradcheck.chosen(changed, first)}

    return [lambda: gradcheck.checks(changed, first=first, h=h), gradients]


def _nudge(text: str) -> Decimal:
    """The h of the gradient check, read as typed (0.0001, 1e-4) and kept exact."""
    from backprop_tutor.answers import parse_number
    from backprop_tutor.errors import BadNumber

    try:
        h = parse_number(text).value
    except BadNumber as e:
        raise TutorError(f"--nudge {echo(text)}: {e.why}") from None
    if not Decimal("1e-12") <= h <= Decimal("0.1"):
        raise TutorError(f"--nudge {echo(text)}: h must lie between 1e-12 and 0.1 (the default is 0.0001)")
    return h


@app.command("lesson-check", cls=TutorCommand)
@handled
def lesson_check(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="FILE|NAME", show_default=False, autocompletion=_complete_lesson,
                                        help="The lesson file to check, or a bundled lesson's name.")],
) -> None:
    """For lesson authors: is this lesson file ready to teach with?

    Checks the format (errors name the line and field), that every step can be computed and
    derived, that SymPy's gradients agree with the engine's, and how many known mistakes can
    be told from the right answers.

    Example: backprop-tutor lesson-check my-lesson.toml
    """
    import dataclasses

    from backprop_tutor import symbolic
    from backprop_tutor.checking import Session
    from backprop_tutor.lesson import load
    from backprop_tutor.mistakes import BY_ID, MISTAKES, Diagnoser
    from backprop_tutor.walk import lesson_steps

    out = _out(ctx)
    lesson = load(path)  # the format: a LessonError here is one line, exit 2
    out.say(f"✓ format: {lesson.title} ({'-'.join(map(str, lesson.network.layout.sizes))}, "
            f"{', '.join(dict.fromkeys(lesson.network.activations))})", "green")
    with _working(ctx) as tell:
        session = Session(lesson)
        asked = [s for s in lesson_steps(session) if s.asked]
        deriver = symbolic.Deriver(lesson.network, session.trace, session.catalogue)
        chosen = symbolic.representatives(lesson.network, session.catalogue)
        failed = []
        for n, qid in enumerate(chosen, 1):
            try:
                deriver.derivation(qid)
            except Exception as e:  # any failure here is the lesson's problem to report, not a crash
                failed.append(f"{qid} ({type(e).__name__})")
            if tell:
                tell("derivations", n, len(chosen))
        rows, check = _reference(ctx, lesson.network, session.trace, tell)
        whole = len(session.trace) <= MISTAKES_ON_ALL  # else one sample stands for the batch
        judge = session if whole else Session(dataclasses.replace(lesson, network=lesson.network.sample(1)))
        net, trace, cat, drift = judge.lesson.network, judge.trace, judge.catalogue, judge.drift
        diagnoser = Diagnoser(net, trace, cat, drift)
        named: dict[str, int] = {m.id: 0 for m in MISTAKES}
        judged = [s for s in lesson_steps(judge) if s.asked]
        every_step = len(cat) <= symbolic.ALL_DERIVED
        if not every_step:  # the steps that stand for the others, as for the derivations
            standing = set(symbolic.representatives(net, cat))
            judged = [s for s in judged if s.qid in standing]
        for n, step in enumerate(judged, 1):
            for mid in diagnoser.mistakes_on(step.qid):
                named[mid] += 1
            if tell:
                tell("mistakes", n, len(judged))
    if failed:
        out.say(f"✗ steps without a derivation: {', '.join(failed)}", "red")
    elif len(chosen) == sum(1 for _ in session.catalogue):
        out.say(f"✓ steps: {len(asked)} to ask, every quantity computed and derived", "green")
    else:
        out.say(f"✓ steps: {len(asked)} to ask, every quantity computed; {len(chosen)} derived: the first and "
                "last of each kind of quantity in each layer and sample", "green")
    worst = max((r.relative for r in rows), default=0.0)
    agree = worst <= VERIFY_TOLERANCE
    out.say(f"{'✓' if agree else '✗'} SymPy: {len(rows)} gradients, largest relative difference {worst:.1e}",
            "green" if agree else "red")
    _say_differences(out, check)
    where = "" if whole else " of sample 1 (a lesson this big is judged on one sample)"
    if not every_step:
        where += f", on the {len(judged)} steps that stand for the others,"
    out.say(f"✓ mistakes: {sum(named.values())} (step, mistake) pairs{where} can be told from the right answer",
            "green")
    never = [m for m, n in named.items() if n == 0 and BY_ID[m].applies(lesson.network)]
    if never:
        out.paragraph("These known mistakes give the right value on every step here, so they will never "
                      f"be named: {', '.join(never)}.", "  ", "  ", "dim")
    if failed or not agree or not check.ok:
        raise typer.Exit(1)


MISTAKES_ON_ALL = 100_000  # quantities: above this, lesson-check names mistakes on sample 1 only


def _given_value(qid: str, text: str) -> float:
    from backprop_tutor.answers import parse_number

    value = float(parse_number(text).value)
    if qid == "eta" and value <= 0:
        raise TutorError(f"eta must be above 0, got {echo(text)}")
    return value


@app.command(cls=TutorCommand)
@handled
def key(
    ctx: typer.Context,
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    fmt: Annotated[str, typer.Option("--format", metavar="md|csv|json",
                                     help="Markdown tables, CSV rows, or one JSON object.")] = "md",
    sample: Annotated[str | None, typer.Option("--sample", metavar="K|all",
                                               help="Several samples: the batch's values and sample K's only, "
                                               "or all (the default, but 1 on a batch of over 100,000 "
                                               "values).")] = None,
) -> None:
    """The answer key for instructors: every value of a lesson, or of a fresh exercise.

    With --random --seed N the key is for the numbers `start/check --random --seed N` use.

    Example: backprop-tutor key --random --seed 42 --format md
    """
    from backprop_tutor.checking import Session
    from backprop_tutor.render import answer_key

    if fmt not in ("md", "csv", "json"):
        raise TutorError(f"--format must be md, csv or json, got '{echo(fmt)}'")
    session = Session(_lesson(lesson, random, seed))
    n = len(session.lesson.network.samples)
    if sample is not None and sample != "all" and not (sample.isdigit() and 1 <= int(sample) <= n
                                                       and sample == str(int(sample))):
        raise TutorError(f"--sample must be all or a sample's number, 1 to {n}, got '{echo(sample)}'")
    if sample is None:
        sample = "1" if session.batch is not None else "all"
    answer_key(session, fmt, None if sample == "all" or n == 1 else int(sample))


@app.command(cls=TutorCommand)
@handled
def grade(
    ctx: typer.Context,
    answers_path: Annotated[str, typer.Argument(metavar="ANSWERS", show_default=False,
                                                help="A CSV of answers, or a folder of progress files.")],
    lesson: LessonOption = None,
    out_dir: Annotated[str | None, typer.Option("--out", "-o", metavar="DIR",
                                                help="Write grades.csv, grades.json and report.md here.")] = None,
) -> None:
    """Grade a class: every answer judged as `check` judges it, a score per student, a class report.

    ANSWERS has rows `student,seed,quantity,value` (a header line first), or one row per student with
    one column per quantity (header `student,seed,net_h1,out_h1,…`). An empty seed is the lesson's own
    numbers. A value that follows from the student's own earlier slip counts as carried (full credit);
    "give more digits" counts half. Bad rows are reported with their line number and skipped.

    Example: backprop-tutor grade answers.csv -o graded
    """
    from pathlib import Path

    from backprop_tutor import grading
    from backprop_tutor.lesson import load

    grader = grading.Grader(load(lesson))
    problems: list[str] = []
    if Path(answers_path).is_dir():
        rows = grading.progress_rows(Path(answers_path), grader.lesson.name, problems)
    else:
        rows = grading.read_rows(grading.open_lines(answers_path), problems)
    report = grading.ClassReport(grader.order)
    outputs = grading.Outputs(out_dir, grader.lesson.name) if out_dir else None
    for sheet in grading.sheets(grader, rows, problems):
        report.add(sheet)
        if outputs:
            outputs.add(sheet)
    for problem in sorted(problems, key=grading.line_of):
        print(f"backprop-tutor: {printable(problem)}", file=sys.stderr)
    if not report.scores:
        raise TutorError(f"no answers could be read from {echo(answers_path)}")
    if outputs:
        outputs.close(report)
    grading.print_report(_console(ctx), report)
    if outputs:
        print("Written: " + ", ".join(printable(p) for p in outputs.paths))


SeedsOption = Annotated[str | None, typer.Option("--seeds", metavar="LIST",
                                                 help="Seeds of fresh exercises: 1-30, or 1,4,9-12.")]


def _seeded(lesson: str | None, seeds: str | None):
    """One lesson per seed (the lesson's own numbers without --seeds)."""
    from backprop_tutor.lesson import load, randomized
    from backprop_tutor.seeds import parse_seeds

    chosen = load(lesson)
    return [chosen] if seeds is None else [randomized(chosen, s) for s in parse_seeds(seeds)]


@app.command(cls=TutorCommand)
@handled
def worksheet(
    ctx: typer.Context,
    seeds: SeedsOption = None,
    lesson: LessonOption = None,
    fmt: Annotated[str, typer.Option("--format", metavar="md|tex", help="Markdown, or LaTeX for pdflatex.")] = "md",
    out_dir: Annotated[str, typer.Option("--out", "-o", metavar="DIR", help="Where to write them.")] = ".",
) -> None:
    """Blank worksheets for a class, one per seed, and their answer keys.

    Each sheet has the seed, the network drawn with its numbers, and every quantity to compute in the
    lesson's order with space to write. `check --random --seed N` judges what students work out.

    Example: backprop-tutor worksheet --seeds 1-30 --format tex -o sheets
    """
    from backprop_tutor.checking import Session
    from backprop_tutor.worksheet import FORMATS, write

    if fmt not in FORMATS:
        raise TutorError(f"--format must be md or tex, got '{echo(fmt)}'")
    try:
        paths = write([Session(chosen) for chosen in _seeded(lesson, seeds)], fmt, out_dir)
    except OSError as e:
        raise TutorError(f"cannot write to {echo(out_dir)}: {e.strerror or e}") from None
    print(f"Written: {len(paths) // 2} sheets and their keys in {printable(out_dir)}")


def _write_output(path: str | None, data: bytes) -> None:
    """Bytes to a file, or to stdout without one; a file that cannot be written is one line, exit 2."""
    if path is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        return
    try:
        with _open_for_writing(path) as f:  # (a FIFO that nothing reads is refused, never waited on)
            f.write(data.decode("utf-8"))
    except OSError as e:
        raise TutorError(f"cannot write {echo(path)}: {e.strerror or e}") from None


def _export_moodle(lessons, out: str | None) -> None:
    from backprop_tutor.checking import Session
    from backprop_tutor.moodle import bank

    _write_output(out, bank([Session(chosen) for chosen in lessons]))


def _export_program(target: str):
    def write(lessons, out: str | None) -> None:
        from backprop_tutor import export_code

        if len(lessons) != 1:
            raise TutorError(f"--to {target} writes one program: give one lesson (--random --seed N), not --seeds")
        chosen = lessons[0]
        text = export_code.program(chosen.name, chosen.network, target)
        if out is None:
            sys.stdout.write(text)
            return
        try:
            with _open_for_writing(out) as f:
                f.write(text)
        except OSError as e:
            raise TutorError(f"cannot write '{echo(out)}': {printable(e.strerror or str(e))}") from None
        print(f"Wrote {echo(out)}: run it with python {echo(out)}", file=sys.stderr)
    return write


# a target: a function of (lessons, output path); the programs' own modules live in export_code
EXPORTS = {"moodle-xml": _export_moodle, "numpy": _export_program("numpy"),
           "pytorch": _export_program("pytorch"), "jax": _export_program("jax")}
EXPORTS["torch"] = EXPORTS["pytorch"]

EXPORT_HELP = """Export a lesson for other tools: a program you can run, or a question bank.

--to numpy writes a short program that does the forward and backward pass by hand in matrices (the
four equations of backpropagation); --to pytorch and --to jax let autograd do it. Each program
checks its gradients and updated weights against the tutor's values, embedded at full precision,
and prints them beside the lesson's names.

--to moodle-xml writes a question bank of numerical questions, one per step and seed, grouped per
step. Each has the right answer with its tolerance (the band `check` accepts) and one answer per
known mistake's value, at 0 %, with the mistake's explanation as feedback.

Without -o the result is printed.

Example: backprop-tutor export --to numpy -o post.py && python post.py

Example: backprop-tutor export --to moodle-xml --seeds 1-30 -o bank.xml
"""


@app.command(cls=TutorCommand, help=EXPORT_HELP)
@handled
def export(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", metavar="numpy|pytorch|jax|moodle-xml", help="What to export to.",
                                    show_default=False)],
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    seeds: SeedsOption = None,
    out: Annotated[str | None, typer.Option("--output", "--out", "-o", metavar="FILE",
                                            help="Write here instead of printing.")] = None,
) -> None:
    name = to.strip().lower()
    if name not in EXPORTS:
        raise TutorError(f"no export target '{echo(to)}': choose numpy, pytorch, jax or moodle-xml")
    if seeds is not None and (random or seed is not None):
        raise TutorError("give either --seeds or --random/--seed, not both")
    lessons = _seeded(lesson, seeds) if seeds is not None or not (random or seed is not None) \
        else [_lesson(lesson, random, seed)]
    EXPORTS[name](lessons, out)


def _store(chosen):
    from backprop_tutor.lesson import bundled_dir
    from backprop_tutor.progress import Store, lesson_key

    bundled = chosen.source == str(bundled_dir() / f"{chosen.name}.toml")
    key = lesson_key(chosen.name, chosen.source, bundled)
    return Store(key if chosen.seed is None else f"{key}-seed{chosen.seed}")


def _input(prompt: str) -> str:
    """One line from the learner; echoed when it does not come from a terminal (piped answers)."""
    line = input(prompt)
    if not sys.stdin.isatty():
        print(echo(line))
    return line


@app.command(cls=TutorCommand)
@handled
def start(
    ctx: typer.Context,
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    restart: Annotated[bool, typer.Option("--restart", help="Forget this lesson's progress and start over "
                                                            "(asks first).")] = False,
    step: Annotated[str | None, typer.Option("--step", metavar="NAME", autocompletion=_complete_name,
                                             help="Jump to a step, e.g. --step dE/dw1.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="With --restart: do not ask for confirmation.")] = False,
    formulas: Annotated[bool, typer.Option("--formulas", help="At the first step of each kind, write the "
                                           "formula first, then compute its value.")] = False,
    matrix: Annotated[bool, typer.Option("--matrix", help="The closing section: the lesson again in matrices "
                                         "(z, a, δ, ∂E/∂W, W⁺), each typed and judged entry by entry.")] = False,
    gradient_check: Annotated[bool, typer.Option("--gradient-check", help="After the output layer, offer a gradient "
                                                 "check by hand: nudge w5 by ±h, compute E_total, divide by 2h.")]
    = False,
) -> None:
    """The interactive lesson: compute backpropagation by hand, one step at a time.

    The tutor checks every value you type, gives hints, shows derivations, and saves your place
    after every step: run it again to resume. At the prompt, type a value or `help`.

    Example: backprop-tutor start
    """
    from backprop_tutor.checking import Session
    from backprop_tutor.screens import Screen
    from backprop_tutor.walk import Walk

    chosen = _lesson(lesson, random, seed)
    session = Session(chosen)
    if step is not None:
        session.resolver.resolve(step)  # a bad name is an error before anything is shown
    store = _store(chosen)
    state = store.load(session.trace)
    if store.refused:  # a walk that cannot be saved is refused before it begins
        raise TutorError(store.refused)
    _warn(state.warnings)
    state.warnings.clear()
    if restart and state.anything():
        _forget(store, chosen.name, yes)
        state = _load_progress(store, session.trace)
    if sys.stdin.isatty():
        try:
            import readline  # noqa: F401 - line editing at the prompt
        except ImportError:
            pass
    resume = "backprop-tutor start" + (f" --lesson {lesson}" if lesson else "")
    if chosen.seed is not None:
        resume += f" --random --seed {chosen.seed}"
    if formulas:
        resume += " --formulas"
    if matrix:
        _matrix_walk(ctx, session, store, state)
        return
    screen = Screen(_console(ctx), _out(ctx), resume)
    walk = Walk(session, store, state, screen, _input, formulas=formulas, gradient_check=gradient_check)
    try:
        walk.run(step)
    except (KeyboardInterrupt, EOFError) as e:
        walk.save()
        screen.stopped(walk)
        raise typer.Exit(130 if isinstance(e, KeyboardInterrupt) else 0) from None


def _matrix_walk(ctx: typer.Context, session, store, state) -> None:
    """`start --matrix`: each matrix of the lesson typed and judged; the entries confirmed count as done."""
    from backprop_tutor import matrixview

    out = _out(ctx)

    def remember(result) -> None:
        if not result.transposed:
            for _, _, entry in result.entries:
                _remember_check(store, state, entry)

    try:
        matrixview.walk(session, _input, out.say, remember)
    except (KeyboardInterrupt, EOFError) as e:
        print()
        raise typer.Exit(130 if isinstance(e, KeyboardInterrupt) else 0) from None


@app.command(cls=TutorCommand)
@handled
def progress(
    ctx: typer.Context,
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object, for an instructor to collect "
                                           "(`backprop-tutor grade` reads a folder of them).")] = False,
    every: Annotated[bool, typer.Option("--all", help="Every bundled lesson, and every fresh exercise you "
                                        "have worked on (with --json).")] = False,
) -> None:
    """Show your progress in a lesson: each section, first-try accuracy per skill, hints used.

    Example: backprop-tutor progress --all --json > alice.json
    """
    from backprop_tutor.checking import Session
    from backprop_tutor.render import progress_report
    from backprop_tutor.walk import Walk

    if every and not json_out:
        raise TutorError("--all goes with --json")
    chosen = [_lesson(lesson, random, seed, need_seed=True)] if not every else _worked_lessons()
    walks = []
    for one in chosen:
        session = Session(one)
        store = _store(one)
        walks.append(Walk(session, store, _load_progress(store, session.trace), None, input))
    if json_out:
        from backprop_tutor.grading import progress_record

        records = [progress_record(w) for w in walks]
        print(json_text({"lessons": records} if every else records[0]))
        return
    progress_report(_console(ctx), walks[0])


def _worked_lessons():
    """The bundled lessons, and every fresh exercise of one that has a progress file."""
    import re

    from backprop_tutor.lesson import bundled_names, load, randomized
    from backprop_tutor.progress import home

    names = bundled_names()
    out = [load(n) for n in names]
    folder = home() / "progress"
    keys = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    for key in keys:
        m = re.fullmatch(r"(.+)-seed(\d{1,9})", key)
        if m and m[1] in names:
            out.append(randomized(load(m[1]), int(m[2])))
    return out


@app.command(cls=TutorCommand)
@handled
def reset(
    ctx: typer.Context,
    lesson: LessonOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget your progress in a lesson (asks first).

    Example: backprop-tutor reset --lesson post --yes
    """
    from backprop_tutor.lesson import load

    chosen = load(lesson)
    store = _store(chosen)
    if not os.path.lexists(store.path):
        print(f"No progress saved for lesson {printable(chosen.name)}: nothing to reset.")
        return
    _forget(store, printable(chosen.name), yes)
    print(f"Progress in lesson {printable(chosen.name)} forgotten. `backprop-tutor start` begins afresh.")


def _forget(store, name: str, yes: bool) -> None:
    """Remove a lesson's progress file once the learner said yes; no (or the end of input) changes nothing."""
    if not yes:
        try:
            answer = _input(f"Forget your progress in lesson {name}? [y/N] ")
        except EOFError:
            answer = ""
            print()
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing was changed.")
            raise typer.Exit(1)
    try:
        store.remove()
    except OSError as e:
        raise TutorError(f"could not remove {store.path}: {e.strerror or e}") from None


MAX_UPDATES = 10_000_000
BAR_AFTER = 2_400_000  # multiply-adds: runs this long get a progress bar (300,000 updates of the post)


@app.command(cls=TutorCommand)
@handled
def train(
    ctx: typer.Context,
    epochs: Annotated[int, typer.Option("--epochs", "-n", help="How many updates (one sample: one per epoch).",
                                        show_default=True)] = 10_000,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate η (default: the lesson's).",
                                             show_default=False)] = None,
    lesson: LessonOption = None,
    random: RandomOption = False,
    seed: SeedOption = None,
    every: Annotated[int | None, typer.Option("--every", metavar="N",
                                              help="A table row every N updates (and for --csv).")] = None,
    until: Annotated[float | None, typer.Option("--until", metavar="ERR",
                                                help="Stop as soon as E_total falls below ERR.")] = None,
    update_biases: Annotated[bool, typer.Option("--update-biases",
                                                help="Train the biases too (the original keeps them fixed).")] = False,
    csv_file: Annotated[str | None, typer.Option("--csv", metavar="FILE",
                                                 help="Write the history: update, error, outputs, weights.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final line.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    as_published: Annotated[bool, typer.Option("--as-published",
                                               help="Run the original's earlier, wrong rule and reproduce its "
                                                    "figures.")] = False,
    batch_size: Annotated[int | None, typer.Option("--batch-size", metavar="B",
                                                   help="Lessons with several samples: B samples per update "
                                                        "(default: all of them, full batch).")] = None,
    compare: Annotated[str | None, typer.Option("--compare", metavar="KEY=VALUES",
                                                help="Several runs side by side: lr=0.1,0.5,1,5, "
                                                     "biases=none,fixed,trained,per-neuron, hidden=1,2,4,8 or "
                                                     "init=lesson,seed:1..5. One table, one plot, --csv of "
                                                     "all the runs.")] = None,
) -> None:
    """Train the lesson's network and watch the error fall.

    Shows checkpoints (updates 1, 10, 100, …), a loss curve, and the weights before and after.
    For the post's network it also explains why the post's own figures after 10,000 updates
    differ; --as-published reproduces them.

    Example: backprop-tutor train --epochs 10000

    Compare: backprop-tutor train --compare lr=0.1,0.5,1,5 --until 0.001
    """
    import dataclasses

    from backprop_tutor import report
    from backprop_tutor.network import output_labels
    from backprop_tutor.training import check_claims, make_loop, multiply_adds, published_figures, run_schedule

    if not 1 <= epochs <= MAX_UPDATES:
        raise TutorError(f"--epochs must be a whole number from 1 to {MAX_UPDATES:,}, got {epochs}")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise TutorError(f"--lr must be a number above 0, got {lr}")
    if every is not None and not 1 <= every <= MAX_UPDATES:
        raise TutorError(f"--every must be a whole number from 1 to {MAX_UPDATES:,}, got {every}")
    if until is not None and not (math.isfinite(until) and until > 0):
        raise TutorError(f"--until must be an error above 0, got {until}")
    chosen = _lesson(lesson, random, seed)
    if as_published and not chosen.claims:
        raise TutorError(f"lesson {chosen.name} has no published figures to reproduce (--as-published)")
    net = chosen.network
    if update_biases:
        net = dataclasses.replace(net, train_biases=True)
    if batch_size is not None and not 1 <= batch_size <= len(net.samples):
        raise TutorError(f"--batch-size must be a whole number from 1 to {len(net.samples)} (the lesson's "
                         f"samples), got {batch_size}")
    if compare is not None:
        if as_published or json_out:
            raise TutorError("--compare does not go with " + ("--as-published" if as_published else "--json"))
        from backprop_tutor.compare import compare as compare_runs

        code = compare_runs(_out(ctx), chosen, compare, epochs=epochs, learning_rate=lr, until=until,
                            update_biases=update_biases, batch_size=batch_size, every=every, csv_file=csv_file,
                            quiet=quiet, open_csv=_open_for_writing)
        raise typer.Exit(code)
    loop = make_loop(net, lr, through_updated=as_published, batch_size=batch_size)
    epochs_asked = epochs
    epochs = epochs * loop.updates_per_epoch  # from here on: updates
    if epochs > MAX_UPDATES:
        raise TutorError(f"{epochs_asked:,} epochs are {epochs:,} updates here; the most is {MAX_UPDATES:,}")
    out = _out(ctx)

    writer = csv_handle = None
    names = loop.names
    if csv_file is not None:
        import csv

        try:
            csv_handle = _open_for_writing(csv_file)
        except OSError as e:
            raise TutorError(f"cannot write --csv {printable(csv_file)}: {e.strerror}") from None
        writer = csv.writer(csv_handle)
        writer.writerow(["update", "E_total", *(label for label, _ in output_labels(net)), *names])

    def record(point) -> None:
        assert writer is not None
        writer.writerow([point.update, repr(point.error), *map(repr, point.outputs), *map(repr, point.params)])

    bar = None
    work = epochs * multiply_adds(net, batch_size)  # a wide lesson gets its bar after fewer updates
    if work >= BAR_AFTER and epochs >= 1_000 and not quiet and not json_out and sys.stdout.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress("training", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=_console(ctx), transient=True)
    import contextlib

    from backprop_tutor.training import Run

    run = None
    try:
        with bar if bar is not None else contextlib.nullcontext():
            task = bar.add_task("train", total=epochs) if bar is not None else None
            run = run_schedule(loop, epochs, every=every, until=until, record_every=every or 1,
                               record=record if writer else None,
                               progress=(lambda done: bar.update(task, completed=done))  # type: ignore[arg-type]
                               if bar else None)
        if csv_handle is not None:
            csv_handle.close()  # what is still buffered is written now, and can fail now
    except KeyboardInterrupt:  # before the first update, or while the bar was being drawn
        run = run or Run.at_start(loop, epochs)
        run.stopped = "interrupted"
    except OSError as e:
        raise TutorError(f"cannot write --csv {csv_file}: {e.strerror}") from None
    finally:
        if csv_handle is not None and not csv_handle.closed:
            with contextlib.suppress(OSError):
                csv_handle.close()

    trained = run.trained(loop)
    full = run.stopped is None and run.last.update == epochs
    right_rule = not as_published and not update_biases and (lr is None or lr == chosen.network.learning_rate)
    checks = check_claims(chosen, trained) if full and right_rule else []
    figures = published_figures(chosen, trained) if as_published and full else []
    if json_out:
        report.write_train_json(sys.stdout, chosen, net, loop, run, checks, figures, until)
    elif quiet:
        outs = ", ".join(f"{label} {v:.9g}" for (label, _), v in zip(output_labels(net), run.last.outputs))
        out.say(f"E_total {run.last.error:.9g} after {run.last.update:,} updates ({outs})")
    else:
        rule = ("the original's earlier rule: the hidden layer back-propagated through the already-updated "
                "output weights" if as_published else "gradient descent")
        batches = ""
        if net.extra:
            size = len(loop.batches[0])
            batches = (f" ({run.last.update // loop.updates_per_epoch:,} epochs of {len(net.samples)} samples, "
                       + ("full batch" if loop.updates_per_epoch == 1 else f"batches of {size}")
                       + f", gradients {'averaged' if net.batch == 'mean' else 'summed'})")
        out.say(f"{chosen.title}: {run.last.update:,} update{'s' if run.last.update != 1 else ''}{batches} of "
                f"{rule}, η = {loop.eta:g}{', biases trained' if net.train_biases else ''}", "bold")
        if as_published:
            out.paragraph("That rule is wrong: every gradient must come from the weights as they were before "
                          "the update. It is run here only to show where the original's figures come from.",
                          style="yellow")
        out.say("")
        report.checkpoint_table(out, chosen, run.rows, net)
        if run.stopped == "until":
            out.say(f"E_total fell below {until:g} after {run.last.update:,} updates.", "bold green")
        elif until is not None and run.stopped is None:
            out.say(f"E_total did not fall below {until:g} in {epochs:,} updates.", "bold yellow")
        if run.stopped == "interrupted":
            out.say(f"Stopped (Ctrl-C) after {run.last.update:,} of {epochs:,} updates.", "bold yellow")
        out.say("")
        report.loss_curve(out, run.curve)
        out.say("")
        before = dict(zip(names, loop.params()))
        shown = [n for n in names if n.startswith("w") or net.train_biases]
        report.weight_table(out, shown, before, dict(zip(names, run.last.params)),
                            "Weights and biases" if net.train_biases else "Weights")
        out.say("")
        out.say(f"E_total: {run.first.error:.9g} before → {run.last.error:.9g} after", "bold")
        report.claims(out, checks)
        if figures:
            report.as_published(out, chosen, figures)
        if csv_file:
            out.say(f"History written to {csv_file}.", "dim")
    if run.stopped == "interrupted":
        raise typer.Exit(130)


for _info in app.registered_commands:  # help texts wrapped as written (see ``reflow``)
    _info.help = reflow(_info.help or (_info.callback.__doc__ if _info.callback else None) or "")


def _open_for_writing(path: str):
    """A file to write text to. A FIFO that nothing reads is refused at once instead of waiting forever."""
    import stat

    try:
        fifo = stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        fifo = False
    if not fifo:
        return open(path, "w", newline="", encoding="utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            e.strerror = "it is a FIFO that nothing is reading"
        raise
    os.set_blocking(fd, True)
    return os.fdopen(fd, "w", newline="", encoding="utf-8")


def _safe_streams() -> None:
    """Bytes on stdin that are not text in its encoding are read as U+FFFD (and so refused as an
    answer), never a crash.  On a terminal that cannot show unicode, replace what it cannot show
    instead of crashing.  (The tutor's own output already falls back to ASCII; this covers help
    texts and the like.)"""
    if sys.stdin is None:  # started with stdin closed (`<&-`): nothing to read, as from /dev/null
        sys.stdin = open(os.devnull, encoding="utf-8")
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # closed (`>&-`): what would be shown goes nowhere
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
    reconfigure_input = getattr(sys.stdin, "reconfigure", None)
    if reconfigure_input is not None:
        reconfigure_input(errors="replace")
    for stream in (sys.stdout, sys.stderr):
        try:
            "∂".encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="replace")


def _output_closed() -> None:
    """Point stdout at the null device: what is still buffered for a closed or full output is dropped,
    not reported again by Python at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _command_name(info: Any) -> str:
    """The name Typer gives a registered command."""
    from typer.main import get_command_name

    return info.name or get_command_name(info.callback.__name__)


def app_for(argv: list[str]) -> typer.Typer:
    """The app for this command line. Typer builds every command's parameters before it parses one
    (about 14 ms for all of them, a tenth of `check`'s start-up), so a command line that begins with
    a command's exact name gets an app of that command alone. Anything else (help, an option of the
    group, a misspelt command, completion) gets the whole app."""
    first = argv[0] if argv else ""
    if os.environ.get("_BACKPROP_TUTOR_COMPLETE"):
        return app
    chosen = [info for info in app.registered_commands if _command_name(info) == first]
    if not chosen:
        return app
    import copy

    one = copy.copy(app)
    one.registered_commands = chosen
    return one


def run() -> None:
    """The command line."""
    _safe_streams()
    chosen = app_for(sys.argv[1:])
    if os.environ.get("BACKPROP_TUTOR_DEBUG"):
        chosen(prog_name="backprop-tutor")
        return
    try:
        try:
            chosen(prog_name="backprop-tutor")
        finally:
            sys.stdout.flush()  # a failed write of the output is reported here, not lost at exit
    except SystemExit:
        raise
    except BrokenPipeError:  # the reader went away (`| head`): stop, quietly
        _output_closed()
        sys.exit(1)
    except OSError as e:  # the output cannot be written (a full disk, /dev/full), or another I/O error
        from backprop_tutor.render import error_line

        _output_closed()
        error_line(f"input/output error: {e.strerror or e}" + (f" ({e.filename})" if e.filename else ""))
        sys.exit(BAD_INPUT)
    except Exception as e:
        from backprop_tutor.render import error_line

        error_line(f"internal error: {type(e).__name__}: {e} (please report it; "
                   "BACKPROP_TUTOR_DEBUG=1 shows the traceback)")
        sys.exit(70)
