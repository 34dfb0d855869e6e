"""Fixtures shared by the service tests."""

from __future__ import annotations

import pytest

from tests.factories import Factory
from tests.services.journey_setup import Shop, make_shop


@pytest.fixture
def shop(factory: Factory) -> Shop:
    """A workspace with a live campaign and message templates, for the journey tests."""
    return make_shop(factory)
