"""Cursor pagination: a page is the rows after the last one the caller saw, in the order of one
unique, increasing column (an id), so that rows added meanwhile never shift a page and a walk
from the first page to the last sees every row once.

A cursor is opaque to callers: the last id seen, in URL-safe base64 of a small JSON object."""

import base64
import binascii
import json
from urllib.parse import urlencode

from flask import request
from sqlalchemy import Select

from certify.api.problems import ApiProblem
from certify.extensions import db

# Ids are row ids: a cursor naming a larger number is not one this API gave out.
MAX_ID = 2**63 - 1


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The last id the cursor names; ``None`` for the first page; 400 for a cursor not ours."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ApiProblem(400, "invalid-cursor") from None
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_ID:
        raise ApiProblem(400, "invalid-cursor")
    return after


def keyset_page(query: Select, column, *, cursor: str | None, limit: int, scalars: bool = False):
    """One page of ``query`` ordered by ``column`` (unique, increasing): the rows, and the
    cursor of the next page (``None`` on the last). One query, for one row more than the page."""
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(column > after)
    result = db.session.execute(query.order_by(column).limit(limit + 1))
    rows = list(result.unique().scalars() if scalars else result)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(last.id)


def next_link(next_cursor: str | None) -> dict:
    """The ``Link`` header of a page that has a next one (RFC 8288)."""
    if next_cursor is None:
        return {}
    arguments = request.args.to_dict() | {"cursor": next_cursor}
    return {"Link": f'<{request.base_url}?{urlencode(arguments)}>; rel="next"'}
