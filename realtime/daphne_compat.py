"""Make daphne close sockets the way our protocol says: endpoint close codes, and 1009 for big frames.

autobahn's sendClose() only accepts 1000 and 3000-4999 from an application, so daphne
raises on `close(code=1009)` and the socket ends as a crashed app (1011, a second later).
RFC 6455 §7.4.1 lets an endpoint send these codes; we send the close frame directly.

Frames: daphne's own size limit (1 MiB by default) makes autobahn fail the connection with
`failByDrop` on, a bare TCP drop that the client sees as 1006 (a network failure, so it
retries). With it off autobahn sends a close frame (1009 for a big message, 1002/1007 for
a protocol violation), and with our 64 KiB as its limit nothing bigger is ever buffered.
"""

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
