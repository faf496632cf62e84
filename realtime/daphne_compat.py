"""Let consumers close a socket with the RFC 6455 codes 1008, 1009, 1011 and 1013 under daphne.

autobahn's sendClose() only accepts 1000 and 3000-4999 from an application, so daphne
raises on `close(code=1009)` and the socket ends as a crashed app (1011, a second later).
RFC 6455 §7.4.1 lets an endpoint send these codes; we send the close frame directly.
"""

ENDPOINT_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011, 1013})


def allow_endpoint_close_codes() -> None:
    """Patch daphne's WebSocket protocol once (idempotent)."""
    from daphne.ws_protocol import WebSocketProtocol

    if getattr(WebSocketProtocol, "_statusmsg_close_codes", False):
        return
    original = WebSocketProtocol.serverClose

    def serverClose(self, code=None):
        if code in ENDPOINT_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            original(self, code)

    WebSocketProtocol.serverClose = serverClose
    WebSocketProtocol._statusmsg_close_codes = True
