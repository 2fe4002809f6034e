"""The audit log search's SQL: keyset bounds, newest first, one row more than a page, no OFFSET."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.dialects import postgresql, sqlite

from decision_aid.dpo import audit_log
from decision_aid.dpo.audit_log import AuditFilters


def sql(filters: AuditFilters, before: int | None = None,
        window: tuple[int | None, int | None] = (None, None), dialect: object = postgresql.dialect()) -> str:
    compiled = audit_log.page_query(filters, before, window).compile(dialect=dialect)  # type: ignore[arg-type]
    return " ".join(str(compiled).split())


def test_page_is_newest_first_with_one_extra_row_and_no_offset() -> None:
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        text = sql(AuditFilters(case_ref="CASE-1"), before=900, dialect=dialect)
        assert "ORDER BY audit_event.seq DESC" in text
        assert "audit_event.case_ref = " in text and "audit_event.seq < " in text
    assert "OFFSET" not in sql(AuditFilters(case_ref="CASE-1"), before=900).upper()


def test_sqlite_offset_is_only_sqlalchemys_zero() -> None:
    """SQLAlchemy's SQLite compiler writes `LIMIT ? OFFSET ?` for any LIMIT, with 0: nothing skipped."""
    query = audit_log.page_query(AuditFilters(event_type="record.viewed"), 900)
    assert query._offset_clause is None  # we set no offset
    compiled = query.compile(dialect=sqlite.dialect())
    assert str(compiled).rstrip().endswith("LIMIT ? OFFSET ?")
    assert list(compiled.construct_params().values())[-1] == 0


def test_limit_is_one_more_than_a_page() -> None:
    query = audit_log.page_query(AuditFilters(), None)
    assert query._limit == audit_log.PAGE_SIZE + 1


def test_date_window_bounds_seq_on_both_sides_and_keeps_the_exact_dates() -> None:
    text = sql(AuditFilters(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31)), window=(10, 99))
    assert "audit_event.seq >= " in text and "audit_event.seq < " in text
    where = text.split(" WHERE ", 1)[1]
    assert where.count("audit_event.occurred_at") == 2  # the window narrows, the dates still decide


def test_the_tighter_of_before_and_the_window_bounds_the_page() -> None:
    query = audit_log.page_query(AuditFilters(date_to=dt.date(2026, 1, 31)), 50, (None, 99))
    params = query.compile().params
    assert 50 in params.values() and 100 not in params.values()
    query = audit_log.page_query(AuditFilters(date_to=dt.date(2026, 1, 31)), 500, (None, 99))
    assert 100 in query.compile().params.values()


def test_system_actor_means_no_actor() -> None:
    assert "audit_event.actor_id IS NULL" in sql(AuditFilters(actor_id=audit_log.SYSTEM_ACTOR))


def test_filter_keys_name_the_filters_used_never_their_values() -> None:
    filters = AuditFilters(actor_id="u-1", date_to=dt.date(2026, 1, 31))
    assert filters.keys() == ["actor_id", "date_to"]


def test_event_label_is_words() -> None:
    assert audit_log.event_label("record.pdf_downloaded") == "Record pdf downloaded"
    assert audit_log.event_label("audit_log.searched") == "Audit log searched"
