"""Declarative base with a naming convention, so Alembic names constraints the same on every database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import MetaData, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.types import DateTime

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware UTC datetimes; SQLite drops the zone, so we put it back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use decision_aid.clock.now()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base class of every model; shared metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_uuid() -> uuid.UUID:
    """Random identifiers for URLs: they reveal nothing about order or volume."""
    return uuid.uuid4()


def insert_values(obj: Any) -> dict[str, Any]:
    """The column values the ORM would send to INSERT this new object, for a Core insert.

    As the ORM's unit of work does: attributes that are None are left out, so a column default
    fills them (or NULL when there is none). For paths that insert a few rows per request and
    cannot afford the unit of work's CPU (the decision submit, target T23); the object itself
    is not added to the session.
    """
    values: dict[str, Any] = {}
    state = obj.__dict__
    for attribute, column in _column_attrs(type(obj)):
        value = state.get(attribute)
        if value is not None:
            values[column] = value
    return values


_COLUMN_ATTRS: dict[type, tuple[tuple[str, str], ...]] = {}


def _column_attrs(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute name, column key) of a mapped class, worked out once per class."""
    found = _COLUMN_ATTRS.get(cls)
    if found is None:
        from sqlalchemy import inspect as sa_inspect
        from sqlalchemy.orm import Mapper

        mapper: Mapper[Any] = sa_inspect(cls)
        found = tuple((prop.key, str(prop.columns[0].key)) for prop in mapper.column_attrs)
        _COLUMN_ATTRS[cls] = found
    return found


class ImmutableRowError(RuntimeError):
    """Raised when code tries to update or delete an insert-only row through the ORM."""


_INSERT_ONLY: dict[type, str] = {}


def insert_only(message: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: rows of this model are never updated or deleted through the ORM.

    The database triggers (decision_aid.audit.immutability) are the real guard; this one fails
    earlier, in Python, with a message that says what to do instead.
    """

    def register(cls: type[T]) -> type[T]:
        _INSERT_ONLY[cls] = message
        return cls

    return register


def _insert_only_message(obj: object) -> str | None:
    for cls, message in _INSERT_ONLY.items():
        if isinstance(obj, cls):
            return message
    return None


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse deletes and real modifications of insert-only rows before anything is sent."""
    for obj in session.deleted:
        if (message := _insert_only_message(obj)) is not None:
            raise ImmutableRowError(f"{type(obj).__name__} rows cannot be deleted: {message}")
    for obj in session.dirty:
        message = _insert_only_message(obj)
        if message is not None and session.is_modified(obj, include_collections=False):
            raise ImmutableRowError(f"{type(obj).__name__} rows cannot be changed: {message}")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """Bulk update() and delete() statements bypass flush: refuse them for insert-only models."""
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if (message := _INSERT_ONLY.get(mapper.class_)) is not None:
            raise ImmutableRowError(f"{mapper.class_.__name__} rows cannot be changed or deleted: {message}")
