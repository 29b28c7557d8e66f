"""Economics: what capacity costs (TCO), what it sells for (the price book), what a deal
is worth (cash flows, NPV, IRR, concentration) and what it serves (``serving``).

Pure like the rest of the core: values in, values out, ``Decimal`` for money, no wall
clock and no framework. Every default carries its source tag from
``../shared/reference/economics.md``.
"""
