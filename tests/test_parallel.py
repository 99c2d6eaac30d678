"""Work side by side (``parallel``): the same results as one after the other, whatever a child does."""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from backprop_tutor import parallel


def _square(k):
    return lambda: {f"x{k}": float(k * k), "pid": os.getpid()}


def test_the_results_are_the_tasks_in_order():
    found = parallel.Pending([_square(k) for k in range(4)]).results()
    assert [r[f"x{k}"] for k, r in enumerate(found)] == [0.0, 1.0, 4.0, 9.0]


@pytest.mark.skipif(not parallel.can_fork(), reason="this machine does not fork, or has one core")
def test_where_it_can_fork_each_task_runs_in_a_child_of_its_own():
    found = parallel.Pending([_square(k) for k in range(3)]).results()
    pids = {r["pid"] for r in found}
    assert os.getpid() not in pids and len(pids) == 3


def test_where_it_cannot_fork_the_tasks_run_here(monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    found = parallel.Pending([_square(k) for k in range(3)]).results()
    assert {r["pid"] for r in found} == {os.getpid()}


def test_what_a_child_could_not_do_is_done_here():
    parent = os.getpid()

    def only_here():
        if os.getpid() != parent:
            raise RuntimeError("not in a child")
        return "done here"

    def dies():
        if os.getpid() != parent:
            os._exit(9)  # killed, say: nothing is sent back
        return "done here too"

    assert parallel.Pending([only_here, dies, lambda: 5]).results() == ["done here", "done here too", 5]


def test_a_task_that_fails_everywhere_fails_here_with_its_own_error():
    def fails():
        raise ZeroDivisionError("no")

    with pytest.raises(ZeroDivisionError):
        parallel.Pending([lambda: 1, fails]).results()


def test_results_that_cannot_be_sent_back_are_made_here():
    parent = os.getpid()
    found = parallel.Pending([lambda: (lambda: os.getpid() == parent)]).results()  # a lambda: not picklable
    assert found[0]() is True


def _script(body: str) -> list[str]:
    return [sys.executable, "-c", "import os, sys, time\nfrom backprop_tutor import parallel\n" + body]


def test_a_child_never_writes_what_the_parent_had_buffered():
    body = ("print('once', end='')\n"  # buffered: stdout is a pipe
            "parallel.Pending([lambda: 1, lambda: print('from a child')]).results()\n")
    out = subprocess.run(_script(body), capture_output=True, text=True, timeout=60)
    assert out.stdout.count("once") == 1 and "from a child" not in out.stdout, out.stdout + out.stderr


def test_stopped_children_are_killed_and_reaped():
    pending = parallel.Pending([lambda: time.sleep(30)])
    children = [run[0] for run in pending.children if run is not None]
    start = time.monotonic()
    pending.stop()
    assert time.monotonic() - start < 5
    assert all(run is None for run in pending.children)
    assert all(not child.is_alive() and child.exitcode is not None for child in children)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # (a zombie is dead, not yet reaped)
    except OSError:
        return False


@pytest.mark.skipif(not parallel.can_fork() or not os.path.isdir("/proc"), reason="needs fork and /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_children_end_with_their_parent_however_it_is_stopped(how):
    """A child whose parent was killed stops at once: it never waits forever to send a result too big for the
    pipe, and it does not hold the parent's output open (a reader sees its end with the parent's)."""
    body = ("big = lambda: (time.sleep(2), 'x' * 1_000_000)\n"
            "pending = parallel.Pending([big, big])\n"
            "print(' '.join(str(run[0].pid) for run in pending.children), flush=True)\n"
            "time.sleep(60)\n")
    parent = subprocess.Popen(_script(body), stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    start = time.monotonic()
    parent.send_signal(how)
    parent.wait(timeout=10)
    readable, _, _ = select.select([parent.stdout], [], [], 5)
    assert readable and parent.stdout.read() == ""  # the end of the output: no child holds it open
    while any(_alive(p) for p in pids) and time.monotonic() - start < 10:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)
    assert time.monotonic() - start < 3
