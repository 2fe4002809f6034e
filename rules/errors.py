"""Exceptions raised by the rules package.

Two kinds of failure matter to callers: a defective rule set (a developer or lawyer made a
mistake in the YAML, so the tool must refuse to start) and bad input facts (a caller sent a
value the contract does not allow, so the request is rejected with a one-line message).
"""

from __future__ import annotations


class RuleSetError(Exception):
    """The rule files are invalid: schema errors, unknown ids, cycles or version gaps."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class FactError(ValueError):
    """Input facts, settings or dates break the contract; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
