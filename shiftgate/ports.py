"""Local TCP ports: one free now, for a server started next (the sandbox's components, a
load generator's web UI)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port no one listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
