"""The pure parts, tested without a database, a server or a subprocess (`make test-fast`)."""

import pytest


@pytest.fixture(autouse=True)
def own_database():
    """Unit tests open no database: the suite-wide fixture of that name makes none here."""
    yield None
