"""The one reader of numbers typed by people: web forms, ``flask criteria score`` and imports.

Accepted: ``1234.5``, ``1,234.5`` (commas only as thousands separators, in groups of three),
full-width digits and point (``１２．５``), a sign, and a trailing ``%`` where the unit is a
percentage. Refused, with a hint, is whatever could be read two ways or is malformed: ``1,2``
(a decimal comma?), ``1.2.3``, ``12 34``, ``1e5``, ``∞``. Nothing is ever guessed: a number
either reads exactly as typed or is refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

# Digits before and after the point a person can mean; longer texts are refused, not rounded.
MAX_DIGITS = 24

_PLAIN = re.compile(r"[+-]?(\d+(\.\d+)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


@dataclass(frozen=True, slots=True)
class NumberText:
    """A number as read: its exact ``Decimal`` and the text the person typed."""

    value: Decimal
    text: str


class NumberFormatError(ValueError):
    """A text that is not a number written unambiguously. ``code`` says why, ``text`` is the
    text as normalised; ``str()`` gives an English hint (the web translates ``code``)."""

    HINTS = {
        "empty": "enter a number",
        "decimal_comma": "use a point for decimals (1.2), and commas only between groups of three digits (1,234.5)",
        "grouping": "commas may only separate groups of three digits, as in 1,234.5",
        "space": "remove the spaces inside the number",
        "exponent": "write the number in full, without an exponent",
        "percent": "a percentage sign is only allowed where the unit is %",
        "too_long": f"at most {MAX_DIGITS} digits",
        "malformed": "write a number such as 12.5",
    }

    def __init__(self, code: str, text: str):
        self.code = code
        self.text = text
        super().__init__(f"{text!r} is not a number: {self.HINTS[code]}")

    @property
    def hint(self) -> str:
        return self.HINTS[self.code]


def parse_number(text: str, *, percent: bool = False) -> NumberText:
    """Read ``text`` as a number; ``percent`` allows a trailing ``%``. Raises ``NumberFormatError``."""
    original = text if isinstance(text, str) else str(text)
    cleaned = unicodedata.normalize("NFKC", original).strip()
    if cleaned.endswith("%"):
        if not percent:
            raise NumberFormatError("percent", cleaned)
        cleaned = cleaned[:-1].rstrip()
    if not cleaned:
        raise NumberFormatError("empty", cleaned)
    if any(ch.isspace() for ch in cleaned):
        raise NumberFormatError("space", cleaned)
    if _PLAIN.fullmatch(cleaned):
        digits = cleaned
    elif _GROUPED.fullmatch(cleaned):
        digits = cleaned.replace(",", "")
    else:
        raise NumberFormatError(_why(cleaned), cleaned)
    if sum(ch.isdigit() for ch in digits) > MAX_DIGITS:
        raise NumberFormatError("too_long", cleaned)
    return NumberText(Decimal(digits), original.strip())


def _why(text: str) -> str:
    if re.fullmatch(r"[+-]?\d+,\d{1,2}", text):
        return "decimal_comma"
    if re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", text):
        return "grouping"
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", text):
        return "exponent"
    return "malformed"
