"""A relayed frame leaves at once when nothing waits before it on the socket, and after what does."""

import socket

import pytest
from twisted.internet import tcp

from realtime.daphne_compat import write_now


class RecordingReactor:
    """The two calls a Twisted transport makes to get written later."""

    def __init__(self):
        self.writers = []

    def addWriter(self, writer):
        self.writers.append(writer)

    def removeWriter(self, writer):
        self.writers.remove(writer)


@pytest.fixture
def connection():
    """A Twisted TCP transport on one end of a socket pair; yield it and the other end."""
    near, far = socket.socketpair()
    near.setblocking(False)
    far.settimeout(1)
    transport = tcp.Connection(near, None, RecordingReactor())
    transport.connected = True
    yield transport, far
    near.close()
    far.close()


def test_a_frame_with_nothing_before_it_is_sent_without_waiting_for_the_loop(connection):
    transport, far = connection
    write_now(transport, b"frame")
    assert far.recv(100) == b"frame"
    assert transport.reactor.writers == []  # no registration to write later


def test_a_frame_waits_behind_bytes_the_transport_still_holds(connection):
    transport, far = connection
    transport.write(b"earlier ")  # Twisted's own write: held until the loop says the socket is writable
    write_now(transport, b"frame")
    far.setblocking(False)
    with pytest.raises(BlockingIOError):
        far.recv(100)  # nothing jumped the queue
    transport.doWrite()
    far.setblocking(True)
    assert far.recv(100) == b"earlier frame"
