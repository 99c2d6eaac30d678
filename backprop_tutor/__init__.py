"""backprop-tutor: learn backpropagation by doing it by hand."""

__version__ = "0.2.0"
