"""Keyset pagination across pages, the counts shown on every page, and the reminder email."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from decision_aid.review import queue
from tests.helpers import login_as, text_of
from tests.integration.review.conftest import Cast, hours_ago

REF_RE = re.compile(r"DA-\d{4}-\d{6}")
NEXT_RE = re.compile(r'href="([^"]+)" rel="next"')
PREV_RE = re.compile(r'href="([^"]+)" rel="prev"')


def page_refs(html: str) -> list[str]:
    return list(dict.fromkeys(REF_RE.findall(html.split("<tbody", 1)[1]))) if "<tbody" in html else []


def test_keyset_pages_have_no_duplicates_or_gaps(client: FlaskClient, cast: Cast, make_decision: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue, "PAGE_SIZE", 4)
    made = [make_decision(cast.author if i % 2 else cast.colleague, submitted_at=hours_ago(30 - i // 3))
            for i in range(11)]  # groups of three share a submitted time: the id breaks ties
    login_as(client, cast.supervisor)
    seen: list[str] = []
    pages = []
    url = "/review?status=any"
    while url:
        html = text_of(client.get(url.replace("&amp;", "&")))
        pages.append(url)
        seen += page_refs(html)
        match = NEXT_RE.search(html)
        url = match.group(1) if match else ""
    assert len(pages) == 3
    expected = [d.reference for d in sorted(made, key=lambda d: (d.submitted_at, d.id.hex))]
    assert seen == expected
    back = PREV_RE.search(text_of(client.get(pages[-1].replace("&amp;", "&"))))
    assert back is not None
    assert page_refs(text_of(client.get(back.group(1).replace("&amp;", "&")))) == expected[4:8]


def test_supervisors_see_counts_on_every_page(client: FlaskClient, cast: Cast, make_decision: Any) -> None:
    make_decision(cast.author)
    make_decision(cast.colleague, recommendation="share_urgently", submitted_at=hours_ago(48))
    make_decision(cast.supervisor)  # their own: never counted as awaiting their review
    login_as(client, cast.supervisor)
    html = text_of(client.get("/"))
    assert re.search(r">2</strong>\s*decisions awaiting your review", html)
    assert re.search(r">1</strong>\s*overdue emergency record", html)
    login_as(client, cast.author)
    assert "awaiting your review" not in text_of(client.get("/"))


class TinySmtp:
    """Just enough SMTP on 127.0.0.1 to receive messages in a test."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.messages: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                self._session(conn, reader)

    def _session(self, conn: socket.socket, reader: Any) -> None:
        conn.sendall(b"220 localhost ready\r\n")
        while line := reader.readline():
            verb = line.strip().split(b" ")[0].upper()
            if verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                body = []
                while (data := reader.readline()) not in (b".\r\n", b""):
                    body.append(data.decode())
                self.messages.append("".join(body))
                conn.sendall(b"250 queued\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def smtp_server() -> Iterator[TinySmtp]:
    server = TinySmtp()
    yield server
    server.close()


def test_reminder_email_has_a_count_and_a_link_but_no_case_details(
        app: Flask, cast: Cast, make_decision: Any, smtp_server: TinySmtp) -> None:
    decisions = [make_decision(cast.author, case_ref="CASE-77123"), make_decision(cast.colleague)]
    runner = app.test_cli_runner()
    assert "0 reminder emails sent" in runner.invoke(args=["review", "notify"]).output  # no SMTP set
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, SMTP_FROM="aid@example.org")
    result = runner.invoke(args=["review", "notify"])
    assert "1 reminder emails sent" in result.output, result.output
    [message] = smtp_server.messages
    assert "2 decisions are awaiting your review" in message
    assert "http://localhost/review" in message
    assert cast.supervisor.email in message
    for decision in decisions:
        assert decision.reference not in message
    assert "CASE-" not in message and "77123" not in message
