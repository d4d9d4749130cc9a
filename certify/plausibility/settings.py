"""The thresholds of the plausibility rules, with their defaults, read and checked in one place.

Pure: ``settings_from(mapping)`` takes any mapping (the Flask configuration, a test's dict) and
returns a frozen ``Settings``; a value that is not a positive number is refused with the name of
the setting. See the package docstring for what each setting means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Setting name -> (attribute, default). The defaults are this system's, not a published rule.
SETTINGS = {
    "CERTIFY_PLAUSIBILITY_TOLERANCE": ("tolerance", "0.005"),
    "CERTIFY_PLAUSIBILITY_JUMP_FACTOR": ("jump_factor", "2"),
    "CERTIFY_PLAUSIBILITY_SLIP_FACTOR": ("slip_factor", "1000"),
    "CERTIFY_PLAUSIBILITY_SLIP_BAND": ("slip_band", "3"),
}


class PlausibilitySettingError(ValueError):
    """A plausibility setting that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """``tolerance``: relative difference allowed between a value and its figures; ``jump_factor``:
    year-on-year ratio beyond which a figure is flagged; ``slip_factor`` and ``slip_band``: a ratio
    within ``slip_band`` times of ``slip_factor`` (or its inverse) reads as a unit slip."""

    tolerance: Decimal = Decimal("0.005")
    jump_factor: Decimal = Decimal("2")
    slip_factor: Decimal = Decimal("1000")
    slip_band: Decimal = Decimal("3")

    def __post_init__(self):
        if self.jump_factor <= 1:
            raise PlausibilitySettingError("CERTIFY_PLAUSIBILITY_JUMP_FACTOR must be greater than 1")
        if self.slip_band <= 1 or self.slip_factor / self.slip_band <= self.jump_factor:
            raise PlausibilitySettingError(
                "CERTIFY_PLAUSIBILITY_SLIP_FACTOR divided by CERTIFY_PLAUSIBILITY_SLIP_BAND must be greater "
                "than CERTIFY_PLAUSIBILITY_JUMP_FACTOR, and the band greater than 1")


def settings_from(config: Mapping, environ: Mapping | None = None) -> Settings:
    """The settings in ``config`` (the application's, which wins), else in ``environ`` (the
    environment variables of the same names), else at their defaults."""
    values = {}
    for name, (attribute, default) in SETTINGS.items():
        raw = config.get(name)
        if raw is None and environ is not None:
            raw = environ.get(name)
        text = default if raw is None or (isinstance(raw, str) and not raw.strip()) else str(raw).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise PlausibilitySettingError(f"{name} must be a number, not {text!r}") from None
        if not number.is_finite() or number <= 0:
            raise PlausibilitySettingError(f"{name} must be a positive number, not {text!r}")
        values[attribute] = number
    return Settings(**values)
