"""Make daphne close sockets the way our protocol says: endpoint close codes, and 1009 for big frames.

autobahn's sendClose() only accepts 1000 and 3000-4999 from an application, so daphne
raises on `close(code=1009)` and the socket ends as a crashed app (1011, a second later).
RFC 6455 §7.4.1 lets an endpoint send these codes; we send the close frame directly.

Frames: daphne's own size limit (1 MiB by default) makes autobahn fail the connection with
`failByDrop` on, a bare TCP drop that the client sees as 1006 (a network failure, so it
retries). With it off autobahn sends a close frame (1009 for a big message, 1002/1007 for
a protocol violation), and with our 64 KiB as its limit nothing bigger is ever buffered.

Relaying: a job update goes to many sockets of one process as one frame built once
(send_prepared), written at once when nothing waits before it on the socket (write_now).
"""

import functools

ENDPOINT_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011, 1012, 1013})


def allow_endpoint_close_codes() -> None:
    """Patch daphne's WebSocket protocol once (idempotent)."""
    from daphne.ws_protocol import WebSocketProtocol

    from .guard import MAX_FRAME_BYTES

    if getattr(WebSocketProtocol, "_statusmsg_close_codes", False):
        return
    original = WebSocketProtocol.serverClose

    def serverClose(self, code=None):
        if code in ENDPOINT_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    WebSocketProtocol.serverClose = serverClose
    # autobahn copies each option from the factory onto a protocol only when the protocol
    # has no attribute of that name (autobahn/websocket/protocol.py, _connectionMade), so
    # class attributes win over daphne's --websocket-max-* flags, for every launcher.
    WebSocketProtocol.failByDrop = False
    WebSocketProtocol.maxMessagePayloadSize = MAX_FRAME_BYTES
    WebSocketProtocol.maxFramePayloadSize = MAX_FRAME_BYTES
    WebSocketProtocol._statusmsg_close_codes = True


# --- relaying one event to many sockets --------------------------------------------------------

def direct_protocol(send):
    """Return the daphne WebSocketProtocol behind an ASGI send callable, or None (another server, a test).

    daphne's send is functools.partial(Server.handle_reply, protocol); handle_reply only
    checks that the connection is still there and calls protocol.handle_reply, which
    frames and writes at once. send_prepared below does the same for a pre-framed message.
    """
    if not isinstance(send, functools.partial) or len(send.args) != 1 or send.keywords:
        return None
    server = getattr(send.func, "__self__", None)
    if getattr(send.func, "__name__", None) != "handle_reply" or type(server).__module__ != "daphne.server":
        return None
    from daphne.ws_protocol import WebSocketProtocol

    protocol = send.args[0]
    return protocol if isinstance(protocol, WebSocketProtocol) else None


def prepare_text(text: str):
    """Frame a text message once, to be written to any number of daphne sockets (autobahn's broadcast helper)."""
    from autobahn.websocket.protocol import PreparedMessage

    return PreparedMessage(text.encode(), isBinary=False, applyMask=False, doNotCompress=False)


def send_prepared(protocol, prepared) -> bool:
    """Write a prepared message to an open socket, as protocol.handle_reply would; False if it is not open.

    A socket with compression negotiated gets the message compressed for it (autobahn's
    sendPreparedMessage); any other gets the frame as it is: sendData's work without the
    debug-log arguments it formats for every frame.
    """
    if protocol.state != protocol.STATE_OPEN:
        return False
    if protocol._perMessageCompress is None and not protocol.send_queue:
        write_now(protocol.transport, prepared.payloadHybi)
    else:
        protocol.sendPreparedMessage(prepared)
    return True


def write_now(transport, data: bytes) -> None:
    """Write data to a plain TCP transport at once when nothing is queued before it, else through Twisted's buffer.

    Twisted's write() only buffers: the frame goes out on a later loop pass, after an
    epoll registration and before another to undo it, which cost more than the send
    itself and most of daphne's CPU in a fan-out to 1,000 sockets (bench/ws_latency.py).
    Writing what the kernel takes now and buffering only the rest (the asyncio transports'
    way, and the bare broadcast's) keeps the order, since nothing was waiting before it.
    """
    from twisted.internet.tcp import Connection

    if (isinstance(transport, Connection) and not transport.TLS and transport.connected
            and not transport.disconnecting and not transport._writeDisconnected
            and not transport.dataBuffer and not transport._tempDataBuffer):
        written = transport.writeSomeData(data)
        if isinstance(written, int) and written >= 0:
            data = data[written:]
        # else the connection is lost: write() below buffers the frame, and Twisted's next
        # write attempt meets the same error and closes the connection its usual way.
    if data:
        transport.write(data)
