"""Shell completion: quantity names in every spelling the tutor accepts, in bash and zsh.

``names`` offers, for each computed quantity, the spelling that continues what was typed: the
canonical id, or one of its aliases (``dE/dw<TAB>`` → ``dE/dw5``, ``grad<TAB>`` → ``grad_w5``), and
the ``@`` names of lessons with several samples (``net_h1@2``).

Bash splits the word being completed at ``@``, ``=`` and ``:`` (``COMP_WORDBREAKS``), so
``net_h1@`` reaches a completer as three words and the answer replaces only the last.  Typer's
bash script sends those split words; ``BashComplete`` sends the line up to the cursor instead,
completes the whole word, and answers with the part bash is about to replace (``bash_replies``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from typer._completion_classes import BashComplete as TyperBashComplete
from typer._completion_classes import click_split_arg_string

from backprop_tutor.catalogue import Quantity, normalize

DEFAULT_WORDBREAKS = " \t\n\"'@><=;|&(:"


def names(catalogue: Mapping[str, Quantity], incomplete: str) -> list[str]:
    """One spelling per computed quantity that continues ``incomplete``: as typed if one does
    (zsh keeps only those), else matched the forgiving way names are read (case, _ and ∂)."""
    key = normalize(incomplete)
    found = []
    for item in catalogue.values():
        if item.given:
            continue
        spellings = [item.id, *item.aliases]
        exact = [s for s in spellings if s.startswith(incomplete)]
        loose = [s for s in spellings if normalize(s).startswith(key)]
        found += (exact or loose)[:1]
    return found


def bash_replies(whole: list[str], incomplete: str, wordbreaks: str = DEFAULT_WORDBREAKS) -> list[str]:
    """What bash should put in place of the text it completes: the part of ``incomplete`` after its
    last word-break character, or from it for ``@`` and ``$``, which bash keeps in that text
    (readline's "special prefixes": ``net_h1@2`` is completed as ``@2``, ``--lesson=x`` as ``x``)."""
    cut = max((incomplete.rfind(c) for c in wordbreaks if c not in " \t\n"), default=-1)
    if cut < 0:
        return whole
    head = incomplete[:cut] if incomplete[cut] in "@$" else incomplete[:cut + 1]
    return [w[len(head):] if w.startswith(head) else w for w in whole]


SCRIPT = """
%(complete_func)s() {
    local IFS=$'\\n'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD \\
                   COMP_LINE="${COMP_LINE:0:COMP_POINT}" COMP_WORDBREAKS="$COMP_WORDBREAKS" \\
                   %(autocomplete_var)s=complete_bash $1 ) )
    return 0
}

complete -o default -F %(complete_func)s %(prog_name)s
"""


class BashComplete(TyperBashComplete):
    """Typer's bash completion, reading the line itself so that ``@``, ``=`` and ``:`` stay in the word."""

    source_template = SCRIPT

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_LINE")
        if line is None:  # a script installed before: Typer's words
            return super().get_completion_args()
        try:
            words = click_split_arg_string(line)
        except ValueError:
            words = line.split()
        if not line or line[-1].isspace():
            return words[1:], ""
        return words[1:-1], words[-1] if len(words) > 1 else ""

    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        whole = [item.value for item in self.get_completions(args, incomplete)]
        if os.environ.get("COMP_LINE") is not None:
            whole = bash_replies(whole, incomplete, os.environ.get("COMP_WORDBREAKS") or DEFAULT_WORDBREAKS)
        return "\n".join(whole)


def register(*_: Any) -> None:
    """Use this module's bash completion (Typer registers its own whenever the app is built)."""
    from typer._click.shell_completion import add_completion_class

    add_completion_class(BashComplete, "bash")
