"""The command line: parse → domain → render → exit code.

Command functions are thin; they import what they need inside, so that ``check`` never
pays for SymPy or Rich tables.  Every bad input becomes one line on stderr and exit code 2
(``handled``, and ``TutorGroup.main`` for Typer's own usage errors).
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from tutor import __version__
from tutor.errors import BAD_INPUT, TutorError

F = TypeVar("F", bound=Callable[..., Any])


class TutorGroup(TyperGroup):
    """Typer's group, with usage errors reported in one line instead of a box."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        from tutor.render import error_line

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


def handled(command: F) -> F:
    """Turn the domain's errors into one line on stderr and their exit code."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tutor.render import error_line

        try:
            return command(*args, **kwargs)
        except TutorError as e:
            error_line(str(e))
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
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Learn backpropagation by doing it by hand, on the classic 2-2-2 worked example and more."""
    ctx.obj = {"no_color": no_color}


def _no_color(ctx: typer.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("no_color"))


def _console(ctx: typer.Context):  # Rich is imported only by the commands that draw tables
    from tutor.render import make_console

    return make_console(no_color=_no_color(ctx))


def _out(ctx: typer.Context):
    from tutor.render import Out

    return Out(no_color=_no_color(ctx))


def _complete_name(incomplete: str) -> list[str]:
    from tutor import catalogue, lesson

    try:
        cat = catalogue.build(lesson.load().network)
    except TutorError:
        return []
    key = catalogue.normalize(incomplete)
    return [q for q, item in cat.items() if not item.given and catalogue.normalize(q).startswith(key)]


def _complete_lesson(incomplete: str) -> list[str]:
    from tutor.lesson import bundled_names

    return [n for n in bundled_names() if n.startswith(incomplete)]


LessonOption = Annotated[
    str | None,
    typer.Option("--lesson", "-l", metavar="NAME|PATH", autocompletion=_complete_lesson,
                 help="A bundled lesson (see `backprop-tutor lessons`) or a lesson file. Default: post."),
]

CHECK_HELP = """Check one value you computed by hand.

NAME is any quantity of the lesson: out_h1, E_total, dE/dw5, delta_o1, dE_o2/dout_h1, w5 (the
updated weight w5+), E_total+ (the error after the update) … `backprop-tutor quantities` lists them.
VALUE is read as you type it: 0.3589, .3589, 0,3589, 3.589e-1, -0.0226.

How a value is judged, by the digits you typed:

* right: it agrees with the true value at your last digit, give or take one unit there (rounded
or truncated), and has at least 3 significant digits; exact values such as 0.05 are right as typed.

* right method, carry more digits: it is off only by what rounding every intermediate value to
about 4 significant digits causes.

* give more digits: it agrees, but with fewer than 3 significant digits it cannot tell a right
method from a wrong one (0.0004 for 0.000438568).

* not right: anything else. You see the formula and the parts to check, never the value.

Exit codes: 0 right (also "carry more digits"), 1 not right, 3 give more digits, 2 bad input.

Example: backprop-tutor check dE/dw5 0.082167041
"""


@app.command(help=CHECK_HELP, context_settings={"ignore_unknown_options": True})
@handled
def check(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The quantity, e.g. w5, dE/dw1, out_h1.", metavar="NAME",
                                        autocompletion=_complete_name, show_default=False)],
    value: Annotated[str, typer.Argument(help="The value you computed, e.g. 0.35891648.", metavar="VALUE",
                                         show_default=False)],
    lesson: LessonOption = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object for a grader.")] = False,
) -> None:
    from tutor.checking import Session
    from tutor.lesson import load

    session = Session(load(lesson))
    store = _store(session.lesson)
    state = store.load(session.trace)
    result = session.check(name, value, state)
    _remember_check(store, state, result)
    if json_out:
        import json

        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        from tutor.render import check_result

        check_result(_out(ctx), result)
    raise typer.Exit(result.exit_code)


def _remember_check(store, state, result) -> None:
    """A value confirmed with `check` counts as done in the walk; a wrong one is kept for diagnosis."""
    from tutor import answers
    from tutor.progress import CHECKED, Record

    qid = result.quantity.id
    if result.accepted:
        if qid in state.records:
            return
        state.records[qid] = Record(CHECKED, result.value, typed=result.typed.text, skill=result.quantity.skill)
        state.wrong.pop(qid, None)
    elif result.verdict == answers.WRONG:
        state.note_wrong(qid, result.typed.text, [f.id for f in result.findings if f.kind == "mistake"])
    else:
        return
    for problem in [*state.warnings, store.save(state)]:
        if problem:
            print(f"backprop-tutor: warning: {problem}", file=sys.stderr)


@app.command()
@handled
def quantities(ctx: typer.Context, lesson: LessonOption = None) -> None:
    """List every name `check` accepts, with its symbol and meaning.

    Example: backprop-tutor quantities --lesson post
    """
    from tutor.catalogue import build
    from tutor.lesson import load
    from tutor.render import quantities_table

    chosen = load(lesson)
    quantities_table(_console(ctx), chosen, build(chosen.network))


@app.command()
@handled
def lessons(ctx: typer.Context) -> None:
    """List the bundled lessons.

    Example: backprop-tutor lessons
    """
    from tutor.lesson import bundled_names, load
    from tutor.render import lessons_table

    lessons_table(_console(ctx), [load(name) for name in bundled_names()])


@app.command()
@handled
def explain(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The quantity, e.g. out_h1, dE/dw5, dE/dw1, w5.", metavar="NAME",
                                        autocompletion=_complete_name, show_default=False)],
    lesson: LessonOption = None,
    latex: Annotated[bool, typer.Option("--latex", help="Print the derivation as LaTeX (an align* block).")] = False,
) -> None:
    """Show how a quantity is computed: definition, chain rule, each factor, the numbers, the value.

    The equations are built and differentiated by SymPy from the network's definitions.

    Example: backprop-tutor explain dE/dw1
    """
    from tutor import symbolic
    from tutor.checking import Session
    from tutor.errors import GivenQuantity
    from tutor.lesson import load

    session = Session(load(lesson))
    try:
        qid = session.resolver.resolve(name).id
    except GivenQuantity as e:
        qid = e.qid
    derivation = symbolic.derive(session.lesson.network, session.trace, session.catalogue, qid)
    if latex:
        print(symbolic.latex(derivation))
        return
    from tutor.render import derivation as show

    errata = session.errata_for(qid) if not derivation.quantity.given else []
    show(_console(ctx), session.lesson, derivation, errata)


VERIFY_TOLERANCE = 1e-12


@app.command()
@handled
def verify(ctx: typer.Context, lesson: LessonOption = None) -> None:
    """Check the engine's gradients against SymPy's differentiation of the whole E_total.

    SymPy writes E_total as one expression in every weight (and trained bias), differentiates it by
    each one, and evaluates the result at 30 digits. Exit code 0 when every gradient agrees to 1e-12.

    Example: backprop-tutor verify --lesson post
    """
    from tutor import symbolic
    from tutor.lesson import load
    from tutor.network import run as run_engine
    from tutor.render import verification

    chosen = load(lesson)
    rows = symbolic.verify(chosen.network, run_engine(chosen.network))
    if not verification(_console(ctx), chosen, rows, VERIFY_TOLERANCE):
        raise typer.Exit(1)


def _store(chosen):
    from tutor.lesson import bundled_dir
    from tutor.progress import Store, lesson_key

    bundled = chosen.source == str(bundled_dir() / f"{chosen.name}.toml")
    return Store(lesson_key(chosen.name, chosen.source, bundled))


def _input(prompt: str) -> str:
    """One line from the learner; echoed when it does not come from a terminal (piped answers)."""
    line = input(prompt)
    if not sys.stdin.isatty():
        print(line)
    return line


@app.command()
@handled
def start(
    ctx: typer.Context,
    lesson: LessonOption = None,
    restart: Annotated[bool, typer.Option("--restart", help="Forget this lesson's progress and start over.")] = False,
    step: Annotated[str | None, typer.Option("--step", metavar="NAME", autocompletion=_complete_name,
                                             help="Jump to a step, e.g. --step dE/dw1.")] = None,
) -> None:
    """The interactive lesson: compute backpropagation by hand, one step at a time.

    The tutor checks every value you type, gives hints, shows derivations, and saves your place
    after every step: run it again to resume. At the prompt, type a value or `help`.

    Example: backprop-tutor start
    """
    from tutor.checking import Session
    from tutor.lesson import load
    from tutor.screens import Screen
    from tutor.walk import Walk

    chosen = load(lesson)
    session = Session(chosen)
    store = _store(chosen)
    state = store.load(session.trace)
    if restart:
        state.records.clear()
        state.pending.clear()
        state.position = None
    if step is not None:
        session.resolver.resolve(step)  # a bad name is an error before anything is shown
    if sys.stdin.isatty():
        try:
            import readline  # noqa: F401 - line editing at the prompt
        except ImportError:
            pass
    screen = Screen(_console(ctx), _out(ctx), lesson)
    walk = Walk(session, store, state, screen, _input)
    try:
        walk.run(step)
    except (KeyboardInterrupt, EOFError) as e:
        walk.save()
        screen.stopped(walk)
        raise typer.Exit(130 if isinstance(e, KeyboardInterrupt) else 0) from None


@app.command()
@handled
def progress(ctx: typer.Context, lesson: LessonOption = None) -> None:
    """Show your progress in a lesson: each section, first-try accuracy per skill, hints used.

    Example: backprop-tutor progress
    """
    from tutor.checking import Session
    from tutor.lesson import load
    from tutor.render import progress_report
    from tutor.walk import Walk

    chosen = load(lesson)
    session = Session(chosen)
    store = _store(chosen)
    walk = Walk(session, store, store.load(session.trace), None, input)
    progress_report(_console(ctx), walk)


@app.command()
@handled
def reset(
    ctx: typer.Context,
    lesson: LessonOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget your progress in a lesson (asks first).

    Example: backprop-tutor reset --lesson post --yes
    """
    from tutor.lesson import load

    chosen = load(lesson)
    store = _store(chosen)
    if not store.path.exists():
        print(f"No progress saved for lesson {chosen.name}: nothing to reset.")
        return
    if not yes and not typer.confirm(f"Forget your progress in lesson {chosen.name}?", default=False):
        print("Nothing was changed.")
        raise typer.Exit(1)
    try:
        store.remove()
    except OSError as e:
        raise TutorError(f"could not remove {store.path}: {e.strerror}") from None
    print(f"Progress in lesson {chosen.name} forgotten. `backprop-tutor start` begins afresh.")


MAX_UPDATES = 10_000_000


@app.command()
@handled
def train(
    ctx: typer.Context,
    epochs: Annotated[int, typer.Option("--epochs", "-n", help="How many updates (one sample: one per epoch).",
                                        show_default=True)] = 10_000,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate η (default: the lesson's).",
                                             show_default=False)] = None,
    lesson: LessonOption = None,
) -> None:
    """Train the lesson's network and show where it ends up.

    For the post's network this also shows why the post's own figures after 10,000 updates differ.

    Example: backprop-tutor train --epochs 10000
    """
    from tutor.lesson import load
    from tutor.render import training_report
    from tutor.training import check_claims
    from tutor.training import train as run_training

    if not 1 <= epochs <= MAX_UPDATES:
        raise TutorError(f"--epochs must be a whole number from 1 to {MAX_UPDATES:,}, got {epochs}")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise TutorError(f"--lr must be a number above 0, got {lr}")
    chosen = load(lesson)
    trained = run_training(chosen.network, epochs, learning_rate=lr)
    training_report(_out(ctx), chosen, trained, check_claims(chosen, trained))


def run() -> None:
    """The console script."""
    if os.environ.get("BACKPROP_TUTOR_DEBUG"):
        app(prog_name="backprop-tutor")
        return
    try:
        app(prog_name="backprop-tutor")
    except SystemExit:
        raise
    except Exception as e:
        from tutor.render import error_line

        error_line(f"internal error: {type(e).__name__}: {e} (please report it; "
                   "BACKPROP_TUTOR_DEBUG=1 shows the traceback)")
        sys.exit(70)
