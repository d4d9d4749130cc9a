"""Row ids as they arrive from outside, in addresses and forms.

Every table's id is an integer column: PostgreSQL's holds at most 2^31 − 1. A larger number names
no row, and sent to the database it fails instead of finding nothing (SQLite cannot even bind a
number past 2^63 − 1), so it is turned away before any query: an address with such an id matches
no page (404), and a form that sends one is refused with a message.
"""

import re

from werkzeug.routing import IntegerConverter

MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in an address: a whole number from 0 to ``MAX_ROW_ID``; a longer one matches
    no route, and the visitor gets the page-not-found answer."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ROW_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


_DIGITS = re.compile(r"[0-9]{1,10}")


def is_row_id(value: int) -> bool:
    """Whether ``value`` could be the id of a row."""
    return 1 <= value <= MAX_ROW_ID


def row_id(text: str) -> int | None:
    """The id written in ``text`` (ASCII digits only: ``"²".isdigit()`` is true, yet no number),
    or ``None`` when it is not one a row can have."""
    if not _DIGITS.fullmatch(text or ""):
        return None
    value = int(text)
    return value if is_row_id(value) else None


def row_ids(texts) -> list[int] | None:
    """The ids in ``texts``, e.g. the boxes ticked in a list; ``None`` when any of them is not an
    id a row can have (a list changed outside the page: refused whole, not cut short)."""
    ids = [row_id(text) for text in texts]
    return None if None in ids else ids
