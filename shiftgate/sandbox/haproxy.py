"""HAProxy, the sandbox's router: config rendering, process, and its admin socket.

Traffic is split between colors by server weight in ``bk_router``: every replica of a color
carries the color's weight (0-100), and both colors run the same number of replicas, so the
share of requests per color equals its weight. Weights change at runtime through the admin
socket, with no reload and no dropped connection.

Every weight change is also written to ``haproxy/weights.json`` (after HAProxy holds it), and
the config is rendered from that file when HAProxy (re)starts: a router that crashed comes
back with the weights it had, not with those of the last ``up``. HAProxy runs as the
unprivileged account; the names sent to its admin socket are checked against HAProxy's
alphabet first (``;`` separates commands there).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import string
import subprocess
from pathlib import Path

from shiftgate.config.models import COLORS, Color
from shiftgate.config.paths import source_root
from shiftgate.config.safety import haproxy_name
from shiftgate.errors import SandboxError
from shiftgate.sandbox import processes
from shiftgate.sandbox.state import ProcessRecord, SandboxState, replica_names

TEMPLATE = source_root() / "sandbox" / "haproxy" / "haproxy.cfg.tmpl"
ROUTER_BACKEND = "bk_router"


def binary() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if not found:
        raise SandboxError("haproxy not found: run `make sandbox-up` (installs it)")
    return found


def weights_file(socket_path: str) -> Path:
    return Path(socket_path).parent / "weights.json"


def persisted_weights(socket_path: str) -> dict[Color, int] | None:
    """The weights HAProxy last held (written on every change), None when never written."""
    try:
        data = json.loads(weights_file(socket_path).read_text(encoding="utf-8"))
        return {color: int(data[color]) for color in COLORS}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def persist_weights(socket_path: str, weights: dict[Color, int]) -> None:
    path = weights_file(socket_path)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({color: weights[color] for color in COLORS}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def render(state: SandboxState, socket_path: str) -> str:
    weights = persisted_weights(socket_path) or state.weights

    def servers(color_list: tuple[Color, ...], weighted: bool) -> str:
        lines = []
        for color in color_list:
            for name in replica_names(color):
                port = state.ports.replicas[name]
                weight = f" weight {weights[color]}" if weighted else ""
                lines.append(f"    server {name} 127.0.0.1:{port} check{weight}")
        return "\n".join(lines)

    return string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        admin_socket=socket_path,
        router_port=state.ports.router,
        blue_port=state.ports.blue,
        green_port=state.ports.green,
        stats_port=state.ports.haproxy_stats,
        router_servers=servers(COLORS, weighted=True),
        blue_servers=servers(("blue",), weighted=False),
        green_servers=servers(("green",), weighted=False),
    )


def start(state: SandboxState, folder: Path) -> ProcessRecord:
    socket_path = state.haproxy_socket(folder)
    owner = processes.Unprivileged()
    home = owner.own(folder / "haproxy")  # HAProxy creates its admin socket there
    cfg = home / "haproxy.cfg"
    cfg.write_text(render(state, socket_path), encoding="utf-8")
    owner.chown(cfg)
    check = subprocess.run(
        [binary(), "-c", "-q", "-f", str(cfg)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise SandboxError(f"HAProxy rejected {cfg}: {check.stderr.strip()}")
    Path(socket_path).unlink(missing_ok=True)
    # -db: stay in the foreground, so the recorded pid is HAProxy itself.
    return processes.start([binary(), "-db", "-f", str(cfg)], log=home / "haproxy.log", user=owner)


class AdminSocket:
    """HAProxy's runtime API: one command per connection, plain text back."""

    def __init__(self, path: str, timeout_s: float = 3.0) -> None:
        self.path = path
        self.timeout_s = timeout_s

    def command(self, line: str) -> str:
        if any(ch in line for ch in ";\n\r"):
            raise SandboxError(f"refusing to send {line!r} to HAProxy: one command per line, no ';'")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout_s)
            sock.connect(self.path)
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def weights(self, backend: str = ROUTER_BACKEND) -> dict[Color, int]:
        """Each color's weight, read back from HAProxy (every replica must agree)."""
        result: dict[Color, int] = {}
        for color in COLORS:
            seen = {self._weight(backend, name) for name in replica_names(color)}
            if len(seen) != 1:
                raise SandboxError(f"replicas of {color} carry different weights: {sorted(seen)}")
            result[color] = seen.pop()
        return result

    def _weight(self, backend: str, server: str) -> int:
        _names(backend, server)
        reply = self.command(f"get weight {backend}/{server}").strip()
        # "50 (initial 50)"
        try:
            return int(reply.split()[0])
        except (IndexError, ValueError):
            raise SandboxError(f"HAProxy answered {reply!r} to get weight {backend}/{server}") from None

    def set_weights(self, weights: dict[Color, int], backend: str = ROUTER_BACKEND) -> None:
        """Set, then persist what HAProxy holds (read back): a restart comes back to it."""
        for color, weight in weights.items():
            for name in replica_names(color):
                _names(backend, name)
                reply = self.command(f"set weight {backend}/{name} {int(weight)}").strip()
                if reply:
                    raise SandboxError(f"HAProxy refused weight {weight} for {name}: {reply}")
        if backend == ROUTER_BACKEND:
            persist_weights(self.path, self.weights(backend))

    def set_state(self, server: str, state: str) -> None:
        """``maint`` drains a replica before a deploy replaces it; ``ready`` puts it back."""
        color = server.split("-")[0]
        for backend in (ROUTER_BACKEND, f"bk_{color}"):
            _names(backend, server, state)
            reply = self.command(f"set server {backend}/{server} state {state}").strip()
            if reply:
                raise SandboxError(f"HAProxy refused state {state} for {backend}/{server}: {reply}")


def _names(*names: str) -> None:
    try:
        for name in names:
            haproxy_name(name)
    except ValueError as exc:
        raise SandboxError(str(exc)) from None
