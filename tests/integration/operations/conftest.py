"""Fixtures for operations tests: a DPO and a practitioner, decisions via the shared factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import base_config
from tests.helpers import login_as


@pytest.fixture(scope="session")
def kek_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KEK file outside the repository and the database directory, as production uses."""
    from decision_aid.crypto import write_kek_file

    path = tmp_path_factory.mktemp("secrets") / "kek.key"
    write_kek_file(path)
    return path


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, kek_file: Path) -> dict[str, Any]:
    """The shared test settings plus an explicit KEK_FILE."""
    return {**base_config(database_url, tmp_path), "KEK_FILE": str(kek_file)}


@pytest.fixture
def practitioner(make_user: Any) -> Any:
    """A practitioner in team North."""
    return make_user("practitioner", teams=["North"])


@pytest.fixture
def dpo(make_user: Any) -> Any:
    """The data protection officer."""
    return make_user("dpo")


@pytest.fixture
def dpo_client(client: FlaskClient, dpo: Any) -> FlaskClient:
    """A client signed in as the DPO."""
    login_as(client, dpo)
    return client
