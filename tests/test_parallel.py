"""Work side by side (``parallel``): the same results as one after the other, whatever a child does."""

import os

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


def test_a_child_never_writes_what_the_parent_had_buffered(capfd):
    print("once", end="")
    parallel.Pending([lambda: 1, lambda: 2]).results()
    assert capfd.readouterr().out.count("once") == 1


def test_stopped_children_are_reaped():
    import time

    pending = parallel.Pending([lambda: time.sleep(30)])
    pending.stop()
    assert all(run is None for run in pending.children)
