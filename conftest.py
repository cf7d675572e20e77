import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Sign-in throttling counts in the cache: every test starts with none counted."""
    cache.clear()
    yield
