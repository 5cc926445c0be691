"""The shared cache: Django's Redis cache, which a Redis outage turns into misses, not errors."""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _tolerant(default):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except RedisError as error:
                # Pages and saves go on without the cache, as they do without the broker:
                # every cached value is also in the database (sessions: cached_db).
                logger.warning("cache unavailable (%s): %s", method.__name__, error)
                return default() if callable(default) else default

        return call

    return wrap


class TolerantRedisCache(RedisCache):
    """Redis cache whose reads miss and whose writes are skipped while Redis is unreachable.

    Entries carry a timeout, so an invalidation lost during an outage ends with it.
    """

    get_many = _tolerant(dict)(RedisCache.get_many)
    has_key = _tolerant(False)(RedisCache.has_key)
    set = _tolerant(None)(RedisCache.set)
    set_many = _tolerant(list)(RedisCache.set_many)
    add = _tolerant(False)(RedisCache.add)
    touch = _tolerant(False)(RedisCache.touch)
    delete = _tolerant(False)(RedisCache.delete)
    delete_many = _tolerant(None)(RedisCache.delete_many)
    clear = _tolerant(False)(RedisCache.clear)

    def get(self, key, default=None, version=None):
        try:
            return RedisCache.get(self, key, default, version)
        except RedisError as error:
            logger.warning("cache unavailable (get): %s", error)
            return default
