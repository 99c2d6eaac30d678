"""Start-up without the cyclic garbage collector.

Starting the command line imports Typer, pydantic (which Typer uses to read parameters) and the tutor:
some 30,000 objects the collector tracks, almost none of them garbage. The collector, which runs every
700 allocations, passes over them some 80 times: about 15 ms of the 135 that `check` takes. So the
console script pauses it until the command's own work begins, then freezes what start-up made (it
lives as long as the process, and later collections skip it) and lets the collector run as usual.
Only the console script pauses it; importing the package as a library changes nothing.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collector() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """At the start of a command's work; once, and only if `pause_collector` paused it."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
