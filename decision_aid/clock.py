"""One source of time for the whole app, so tests can move the clock (fake clock) without patching."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import current_app, has_app_context

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The real time, always in UTC."""
    return dt.datetime.now(dt.UTC)


def now() -> dt.datetime:
    """Current UTC time from the app's clock (tests install a fake one in app.extensions)."""
    if has_app_context():
        clock: Clock = current_app.extensions.get("clock", system_clock)
        return clock()
    return system_clock()


def today() -> dt.date:
    """Today's date in UTC (the legal 'as at' date defaults to it)."""
    return now().date()


class FakeClock:
    """A clock the tests can set and advance."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        """Move time forward by a timedelta's keyword arguments (minutes=16, hours=12...)."""
        self.current += dt.timedelta(**kwargs)
