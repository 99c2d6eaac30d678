"""Independent pieces of work side by side on the machine's cores.

Used where one command would otherwise wait on several long, independent computations (the drift
traces of a big batch: one per way of rounding, each a pass over every sample, while the exact values
are computed). Where the system forks (Linux, more than one core), each piece runs in a forked child,
which has the parent's memory as it was and sends back only its result; elsewhere, and whenever a
child fails, the pieces run in this process when their results are asked for. The results are the
same either way.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    return sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1


class Pending(Generic[T]):
    """Tasks started, each in a child of its own where that can be done; ``results()`` waits for them."""

    def __init__(self, tasks: list[Callable[[], T]], fork: bool = True):
        """``fork=False``: each task runs here when the results are asked for (work too short to be
        worth a process)."""
        self.tasks = tasks
        self.children: list[tuple[Any, Any] | None] = [None] * len(tasks)
        if not fork or not can_fork():
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        for stream in (sys.stdout, sys.stderr):  # what is buffered would be written again by a child
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        readers = []  # every read end so far: a child closes its copies, so that a pipe breaks with the parent
        for k, task in enumerate(tasks):
            receive, send = context.Pipe(duplex=False)
            readers.append(receive)
            try:
                child = context.Process(target=_child, args=(task, send, list(readers), os.getpid()), daemon=True)
                child.start()
            except OSError:  # no more processes: this one does it
                receive.close()
                break
            finally:
                send.close()
            self.children[k] = (child, receive)

    def results(self) -> list[T]:
        """Every task's result, in order."""
        try:
            found = [_result(run) if run is not None else None for run in self.children]
        finally:
            self.stop()
        return [result[0] if result is not None else task()  # (what a child could not do is done here)
                for task, result in zip(self.tasks, found)]

    def stop(self) -> None:
        for k, run in enumerate(self.children):
            if run is not None:
                child, receive = run
                if child.is_alive():
                    child.kill()
                child.join()
                receive.close()
                self.children[k] = None


def _child(task: Callable[[], Any], send: Any, readers: list[Any], parent: int) -> None:
    """Sends ``(result,)``, or None if the task failed (the parent then does it again, and says what
    is wrong). A child never outlives its parent: it holds no read end of any pipe (a send to a parent
    that is gone fails at once), nor the parent's terminal or output (a reader of those sees their end
    when the parent ends), and it stops within a tenth of a second once the parent is gone."""
    for reader in readers:
        reader.close()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    try:
        result = (task(),)
    except BaseException:  # (any failure, even an interrupt: the parent does it again)
        result = None
    try:
        send.send(result)
    except Exception:  # (not sent: the parent does it again)
        pass


def _result(run: tuple[Any, Any]) -> tuple[Any] | None:
    try:
        found = run[1].recv()
    except (EOFError, OSError):  # the child died before it sent anything
        return None
    return found if isinstance(found, tuple) and len(found) == 1 else None
