"""Money is Decimal, rounded to the cent at line level; never a float."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

from exports.budget import fraction as share  # noqa: F401  (one definition, shared)

CENT = Decimal("0.01")
Rounding = Literal["half_up", "down"]
_MODES = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN}


def to_cents(value: Decimal, rounding: Rounding = "half_up") -> Decimal:
    """Round to the cent the way the call says (half-up by default)."""
    if isinstance(value, float):
        raise TypeError("money must be Decimal, never float")
    return value.quantize(CENT, rounding=_MODES[rounding])


HUNDRED = Decimal("100.00")


def percent_shares(parts: Sequence[Decimal]) -> tuple[Decimal, ...] | None:
    """Each part's share of their sum in percent, to the hundredth, adding up to exactly 100.00.

    Largest remainders: every share is its exact value rounded down to 0.01 %, and the
    hundredths left over go to the parts with the largest remainders (ties: the earlier
    part). None when the parts add up to zero. Parts must not be negative.
    """
    if any(isinstance(p, float) for p in parts):
        raise TypeError("money must be Decimal, never float")
    total = sum((Fraction(p) for p in parts), Fraction(0))
    if total == 0:
        return None
    exact = [Fraction(p) * 10000 / total for p in parts]  # in hundredths of a percent
    floors = [e.numerator // e.denominator for e in exact]
    left = 10000 - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in order[:left]:
        floors[index] += 1
    return tuple(Decimal(f).scaleb(-2) for f in floors)
