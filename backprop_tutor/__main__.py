"""`python -m tutor` runs the command line."""

from backprop_tutor.cli import run

run()
