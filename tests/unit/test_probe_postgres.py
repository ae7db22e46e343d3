"""The PostgreSQL probe without a server: where it says facts come from, and failing closed."""

from __future__ import annotations

import socket

import pytest

from shiftgate.errors import SourceUnavailable
from shiftgate.probes.postgres import PostgresProbe


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("dsn", "source"),
    [
        ("postgresql://probe:hunter2@db.internal:6432/recs", "postgresql db.internal:6432/recs"),
        ("host=10.0.0.5 dbname=recs user=probe password=hunter2", "postgresql 10.0.0.5:5432/recs"),
        ("not a dsn = = =", "postgresql (unparsable DSN)"),
    ],
)
def test_source_names_host_and_port_never_the_password(dsn: str, source: str) -> None:
    assert PostgresProbe(dsn).source == source


def test_construction_does_not_connect_and_the_first_fact_fails_closed() -> None:
    port = closed_port()
    probe = PostgresProbe(f"postgresql://probe:hunter2@127.0.0.1:{port}/recs", connect_timeout_s=1)
    with pytest.raises(SourceUnavailable) as caught:
        probe.settings()
    assert caught.value.source == f"postgresql 127.0.0.1:{port}/recs"
    assert "hunter2" not in str(caught.value)
    assert "refused" in caught.value.problem or "connect" in caught.value.problem
