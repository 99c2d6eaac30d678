"""The console script and `python -m backprop_tutor`: the command line, started with the garbage
collector paused (see ``startup``)."""

from backprop_tutor.startup import pause_collector


def main() -> None:
    pause_collector()
    from backprop_tutor.cli import run

    run()


if __name__ == "__main__":
    main()
