"""The gradient check by hand: a walk's optional exercise after the output layer (``start --gradient-check``).

The learner nudges the first weight of the output layer (w5 in the post) by +h and by −h, computes E_total
both times, and divides the change by 2h.  Each value is judged as answers are (``answers.judge``): the two
errors at the digits typed, with at least ``gradcheck.HAND_DIGITS`` of them, since their difference cancels
the first few; the quotient within what those digits allow plus the O(h²) error of the central difference
(``gradcheck.Exercise.tolerance``), so that the gradient of the backward pass passes too: the point is that
the two agree.  The exercise is not part of the progress file.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from backprop_tutor import answers, gradcheck
from backprop_tutor.catalogue import full_digits
from backprop_tutor.checking import Session
from backprop_tutor.errors import BadNumber

COMMANDS = {"hint": "hint", "h": "hint", "skip": "skip", "s": "skip", "quit": "quit", "q": "quit", "exit": "quit"}


def run(session: Session, screen, read: Callable[[str], str], confirm: Callable[[str], bool]) -> bool:
    """Offer the exercise and walk through it; False when the learner asks to quit."""
    net = session.lesson.network
    ex = gradcheck.exercise(net)
    p, h, say = ex.parameter, ex.h, screen.say
    say(f"A gradient check, by hand: nudge {p} by h = {h} up and down, compute E_total each time, and divide the "
        f"change by 2h. (E_total({p} + h) − E_total({p} − h)) / 2h should agree with ∂E_total/∂{p} to about "
        f"h²/6 · ∂³E/∂{p}³: the central difference's error is O(h²).", "bold")
    if not confirm("Try it? [y/N] "):
        say("Not now: the walk goes on.", "dim")
        return True
    exact = session.exact
    tag = "@1" if net.extra else ""
    first = exact[ex.first] + h * exact[ex.source + tag]
    batch = (f" {p} is shared by every sample: compute each sample's error again and combine them as the batch "
             "does." if net.extra else "")
    say(f"Only {ex.first} uses {p}: with {p} + h it grows by h · {ex.source}{tag}, and with {p} − h it shrinks by as "
        f"much. From there compute the outputs and E_total again; errors that do not depend on {p} stay.{batch} "
        f"Carry at least {gradcheck.HAND_DIGITS} significant digits: the difference of the two errors cancels the "
        "first 3 or 4 of them.", "dim")
    hint = f"{ex.first} with {p} + h is {full_digits(first)}."
    asks = [(f"E_total({p} + h)", ex.check.plus, Decimal(0), gradcheck.HAND_DIGITS),
            (f"E_total({p} − h)", ex.check.minus, Decimal(0), gradcheck.HAND_DIGITS),
            (f"ΔE/Δ{p}", ex.check.difference, ex.tolerance(), answers.MIN_DIGITS)]
    for label, value, tolerance, digits in asks:
        if label.startswith("ΔE"):
            say(f"Now ΔE/Δ{p} = (E_total({p} + h) − E_total({p} − h)) / {2 * h}.", "dim")
        if not ask(screen, read, label, value, tolerance, digits, hint):
            return False
    gradient = Decimal(exact[f"dE_total/d{p}"])
    off = ex.check.off_by(gradient)
    say(f"ΔE/Δ{p} = {full_digits(ex.check.difference)} ≈ ∂E_total/∂{p} = {full_digits(gradient)}: they differ by "
        f"{float(off):.1e}, within h²/6 · |∂³E/∂{p}³| ≈ {float(ex.check.bound):.1e}. The nudge and the chain rule "
        "agree: this is how backpropagation code is tested. (`what-if` checks the other weights the same way.)",
        "green")
    return True


def ask(screen, read: Callable[[str], str], label: str, value: Decimal, tolerance: Decimal, digits: int,
        hint: str) -> bool:
    """One value, asked until it is right or skipped; False on quit."""
    more = f"? give more digits: type at least {digits} significant digits here."
    while True:
        text = read(f"{label} = ").strip()
        command = COMMANDS.get(text.lower())
        if not text:
            screen.say("Type the value you computed, or `hint`, `skip` or `quit`.", "dim")
        elif command == "quit":
            return False
        elif command == "skip":
            screen.say(f"{label} = {full_digits(value)}", "dim")
            return True
        elif command == "hint":
            screen.say(hint, "dim")
        else:
            try:
                typed = answers.parse_number(text)
            except BadNumber as e:
                screen.error(str(e))
                continue
            verdict = answers.judge(typed, value, float(tolerance))
            if verdict in (answers.RIGHT, answers.DRIFT) and (typed.digits >= digits or typed.value == value):
                screen.say(f"✓ right: {label} = {text}", "green")
                return True
            if verdict in (answers.RIGHT, answers.DRIFT, answers.IMPRECISE):
                screen.say(more, "yellow")
            else:
                screen.say(f"✗ not right: {text} is not {label} at the digits you typed. `hint` shows the first "
                           "value the nudge changes.", "red")
