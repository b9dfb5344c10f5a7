"""Money is Decimal, rounded to the cent at line level; never a float."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
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
