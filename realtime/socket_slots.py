"""How many sockets each user holds open, capped at STATUSMSG MAX_SOCKETS_PER_USER across every daphne process.

With channels-redis as the layer, each user has one Redis sorted set next to the layer's
keys: a member per open socket (its socket id), scored with the time it stops counting
unless refreshed. A Lua script checks and adds atomically, so two daphnes cannot both take
the last slot; a crashed daphne's sockets age out after TTL; each process re-scores its own
sockets every REFRESH seconds. A Redis that is down or slow lets the socket open (fail open:
an outage must not lock everyone out). With any other layer (the in-memory one of the fast
tests) the count is per process.
"""

import asyncio
import contextlib
import logging
import time
import weakref

from django.conf import settings
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from statusmsg.conf import app_settings

logger = logging.getLogger(__name__)

TTL = 90  # seconds a socket counts without a refresh; far above REFRESH, to absorb clock skew
REFRESH = 30
REDIS_TIMEOUT = 0.5  # a handshake waits at most this long for the count

# KEYS[1] = the user's set; ARGV: member, now, ttl, cap. Returns 1 when the socket may open.
CLAIM = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

# This process's open sockets per user, for the in-process count and for the refresher.
_local: dict[object, set[str]] = {}
# One Redis client (and refresher task) per event loop: a client's connections belong to a loop.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _layer_config() -> tuple[str | None, str]:
    """Return the channel layer's Redis address (None when it is no Redis layer) and key prefix."""
    layer = settings.CHANNEL_LAYERS.get("default", {})
    config = layer.get("CONFIG", {})
    hosts = config.get("hosts") or []
    if "channels_redis" not in layer.get("BACKEND", "") or not hosts:
        return None, ""
    host = hosts[0]
    return (host.get("address") if isinstance(host, dict) else host), config.get("prefix", "asgi")


def _key(prefix: str, user_id) -> str:
    return f"{prefix}:sockets:user:{user_id}"


async def claim(user_id, member: str) -> bool:
    """Count member as one of user_id's sockets; False when the user already holds the maximum."""
    cap = int(app_settings.MAX_SOCKETS_PER_USER)
    address, prefix = _layer_config()
    if address is None:
        members = _local.get(user_id, set())
        if member not in members and len(members) >= cap:
            return False
    else:
        client = _client(address)
        try:
            async with asyncio.timeout(REDIS_TIMEOUT):
                granted = await client.eval(CLAIM, 1, _key(prefix, user_id), member, time.time(), TTL, cap)
        except Exception as exc:  # noqa: BLE001 - fail open, see the module docstring
            logger.warning("socket count unavailable user=%s error=%r; socket allowed", user_id, exc)
            granted = 1
        if not granted:
            return False
    _local.setdefault(user_id, set()).add(member)
    return True


async def release(user_id, member: str) -> None:
    """Stop counting member (idempotent; a failure only leaves it to age out)."""
    members = _local.get(user_id)
    if not members or member not in members:
        return
    members.discard(member)
    if not members:
        del _local[user_id]
    address, prefix = _layer_config()
    if address is not None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(REDIS_TIMEOUT):
                await _client(address).zrem(_key(prefix, user_id), member)


def _client(address: str) -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    entry = _clients.get(loop)
    if entry is None:
        # One retry on a connection error: after a Redis restart the pooled connection is stale.
        client = aioredis.Redis.from_url(address, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT,
                                         retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError])
        entry = _clients[loop] = (client, loop.create_task(_refresh_forever(client)))
    return entry[0]


async def _refresh_forever(client: aioredis.Redis) -> None:
    """Re-score this process's sockets so that they keep counting; re-adds them after a Redis restart."""
    _, prefix = _layer_config()
    while True:
        await asyncio.sleep(REFRESH)
        try:
            async with client.pipeline(transaction=False) as pipe:
                expires = time.time() + TTL
                for user_id, members in list(_local.items()):
                    key = _key(prefix, user_id)
                    # Plain ZADD, not XX: after a Redis restart the sockets open here count again.
                    pipe.zadd(key, dict.fromkeys(members, expires))
                    pipe.expire(key, TTL)
                await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - retried next round; until then entries age
            logger.warning("socket count refresh failed error=%r", exc)
