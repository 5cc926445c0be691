"""The shared cache: Redis in production, and a Redis outage turns into misses, not errors."""

from __future__ import annotations

import os
import socket

import pytest

from config.cache import TolerantRedisCache
from tests.prod.test_check_deploy import manage, production_env


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_cache(url: str) -> TolerantRedisCache:
    return TolerantRedisCache(
        url,
        {"KEY_PREFIX": "crm-test", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}},
    )


def test_an_unreachable_redis_reads_as_misses_and_skips_writes():
    cache = redis_cache(f"redis://127.0.0.1:{closed_port()}/15")
    assert cache.get("key") is None
    assert cache.get("key", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("key") is False
    cache.set("key", 1)
    cache.set_many({"a": 1})
    assert cache.add("key", 1) is False
    assert cache.delete("key") is False
    cache.delete_many(["a"])


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_it_stores_in_redis():
    cache = redis_cache(os.environ["REDIS_URL"])
    cache.set("round-trip", {"roles": frozenset({"finance"})}, 30)
    assert cache.get("round-trip") == {"roles": frozenset({"finance"})}
    assert cache.delete("round-trip")


def test_production_shares_the_cache_in_redis_and_caches_sessions():
    env = production_env(REDIS_URL="redis://127.0.0.1:6379/14")
    env.pop("CACHE_URL", None)
    code = (
        "from django.conf import settings; c = settings.CACHES['default']; "
        "print(c['BACKEND'], c['LOCATION'], settings.SESSION_ENGINE)"
    )
    result = manage("shell", "--verbosity", "0", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "config.cache.TolerantRedisCache",
        "redis://127.0.0.1:6379/14",
        "django.contrib.sessions.backends.cached_db",
    ]
