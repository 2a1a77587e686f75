"""The text our statements bind for an instant on SQLite is the text SQLAlchemy stores.

Every instant column is compared as text on SQLite (``due_at <= :now`` picks what is due),
so the two writers of those columns — SQLAlchemy's ``DateTime`` and ``sql.stamp`` in the
statements we write ourselves — must agree to the character.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from centauro.store.sql import _sqlite_text, unstamp

CARACAS = timezone(timedelta(hours=-4))

INSTANTS = [
    datetime(2026, 12, 6, 18, 57, 41, 235330, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 3, 1, 20, 0, 0, 1, tzinfo=CARACAS),  # another zone, the next UTC day
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.mark.parametrize("when", INSTANTS, ids=str)
def test_a_stamp_is_the_text_sqlalchemy_stores(when: datetime) -> None:
    stored = sqlite.DATETIME().bind_processor(sqlite.dialect())
    assert stored is not None
    assert _sqlite_text(when) == stored(when.astimezone(UTC).replace(tzinfo=None))


@pytest.mark.parametrize("when", INSTANTS, ids=str)
def test_a_stamp_reads_back_as_the_same_instant(when: datetime) -> None:
    assert unstamp(_sqlite_text(when)) == when


def test_stamps_sort_as_their_instants() -> None:
    texts = [_sqlite_text(w) for w in INSTANTS]
    assert sorted(texts) == [_sqlite_text(w) for w in sorted(INSTANTS)]
