"""make run's guards: a second copy in the same checkout, or a busy port, is refused with the reason."""

import socket

import pytest

from statusmsg import run


def test_a_second_claim_of_the_checkout_is_refused_naming_the_holder(tmp_path):
    lock_path = tmp_path / "run.lock"
    held = run.claim_checkout(lock_path)
    try:
        with pytest.raises(SystemExit, match=r"already running from this checkout \(pid \d+.*stop it first"):
            run.claim_checkout(lock_path)
    finally:
        held.close()
    run.claim_checkout(lock_path).close()  # the holder is gone: the next run may start


def test_a_busy_port_is_refused_before_anything_starts():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {port} is busy"):
            run.refuse_busy_port(str(port))
    run.refuse_busy_port(str(port))  # free again
