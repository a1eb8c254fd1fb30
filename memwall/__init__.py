"""memwall: cost models, trend fits and rooflines behind the book *AI and the Memory Wall, recomputed*.

Modules
-------
datasets
    Validated loaders of the curated tables in ``data/``.
trends
    Exponential growth fits on calendar time.
hardware
    Peak FLOP/s under a precision rule, record setters, machine balance, sensitivity of the fits.
plotting
    Altair charts with the book's theme.
validation
    Schema validation of CSV tables with row/column-level error messages.
cli
    The ``memwall`` command line.

Conventions: SI units inside the package (FLOP, FLOP/s, B, B/s, s); 1 multiply-add = 2 FLOPs.
"""

__version__ = "0.1.0"
