"""Redaction by value and by pattern, and files written redacted (docs/architecture.md rule 6)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiftgate.config.secrets import register_dsn, register_url, register_variable
from shiftgate.redact import forget_secrets, redact, redact_json_text, register_secret, registered
from shiftgate.report.redacted import pipe_redacted, redact_tree, write_redacted


@pytest.fixture(autouse=True)
def empty_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def test_a_registered_value_is_masked_wherever_it_appears() -> None:
    register_secret("s3cr3t-Value")
    assert redact("error: auth failed for s3cr3t-Value (x)") == "error: auth failed for *** (x)"


def test_its_percent_encoded_form_too() -> None:
    register_secret("pass@word!")
    assert redact("postgresql://u:pass%40word%21@db/app") == "postgresql://u:***@db/app"


def test_short_values_are_not_registered() -> None:
    register_secret("abc")
    assert registered() == frozenset()


def test_url_credentials_and_query_tokens_are_registered() -> None:
    register_url("https://gate:Pr0m%40pass@prom.example:9090/?token=QTOKEN123&x=1")
    text = "GET https://prom.example:9090/api?token=QTOKEN123 as Pr0m@pass"
    assert "QTOKEN123" not in redact(text) and "Pr0m@pass" not in redact(text)
    assert "prom.example:9090" in redact(text)  # where it went stays readable


def test_a_dsn_keeps_host_and_database_but_not_the_password() -> None:
    register_dsn("host=db port=5432 dbname=app user=probe password='pa ss@word'")
    out = redact("could not connect: password pa ss@word rejected for host=db dbname=app")
    assert "pa ss@word" not in out and "host=db" in out


@pytest.mark.parametrize("name", ["API_TOKEN", "PROM_PASSWORD", "CLIENT_SECRET", "SIGNING_KEY", "X_DSN"])
def test_secret_named_variables_are_registered(name: str) -> None:
    register_variable(name, "plainvalue123")
    assert redact("value plainvalue123") == "value ***"


def test_other_variables_are_not() -> None:
    register_variable("SHIFTGATE_SANDBOX_ROUTER_URL", "http://127.0.0.1:8080")
    assert redact("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"password": "hunter2x"}', "hunter2x"),
        ('{"db_password":"a\\"b-hunter"}', "hunter"),
        ("PGPASSWORD=hunter2x psql", "hunter2x"),
        ("sslpassword=hunter2x host=db", "hunter2x"),
        ("token: abcdefgh123", "abcdefgh123"),
        ("GET /api?token=abcdefgh123&x=1", "abcdefgh123"),
        ("client-key-data: LS0tLS1CRUdJTiBSU0E=", "LS0tLS1CRUdJTiBSU0E"),
        ("postgresql://probe:p@ss@word@db:5432/app", "ss@word"),
        ("postgresql://probe:p@ss@word@db:5432/app", "p@ss"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "eyJhbGciOi"),
        ("Authorization: Basic Z2F0ZTpwdw==", "Z2F0ZTpwdw"),
        ("password = 'with space'", "with space"),
    ],
)
def test_patterns_catch_what_was_never_registered(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_patterns_leave_ordinary_text_alone() -> None:
    for text in ("tokens: 5 used", "max_connections = 50", "the monkey=3 ok", "dsn_env: SHIFTGATE_DSN"):
        assert redact(text) == text


def test_json_is_redacted_value_by_value_and_stays_json() -> None:
    register_secret("VerySecret1")
    masked = redact_json_text(json.dumps({"a": ["x VerySecret1 y"], "VerySecret1": 1}))
    assert json.loads(masked) == {"a": ["x *** y"], "***": 1}


def test_files_are_written_redacted(tmp_path: Path) -> None:
    register_secret("VerySecret1")
    write_redacted(tmp_path / "a.txt", "line VerySecret1\n")
    write_redacted(tmp_path / "b.json", json.dumps({"m": "VerySecret1"}))
    write_redacted(tmp_path / "c.png", b"\x89PNG\x00VerySecret1")  # binary: as it is
    assert (tmp_path / "a.txt").read_text() == "line ***\n"
    assert json.loads((tmp_path / "b.json").read_text()) == {"m": "***"}
    assert not list(tmp_path.glob(".*tmp"))


def test_the_sweep_masks_every_file_below(tmp_path: Path) -> None:
    register_secret("VerySecret1")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "x.log").write_text("VerySecret1")
    (tmp_path / "clean.txt").write_text("nothing")
    assert redact_tree(tmp_path) == [tmp_path / "deep" / "er" / "x.log"]
    assert (tmp_path / "deep" / "er" / "x.log").read_text() == "***"


def test_a_subprocess_output_reaches_its_log_masked(tmp_path: Path) -> None:
    register_secret("VerySecret1")
    log = tmp_path / "gate.log"
    code = pipe_redacted(
        [sys.executable, "-c",
         "import sys; print('a VerySecret1'); print('b', file=sys.stderr); sys.exit(3)"],
        tmp_path, log,
    )
    assert code == 3
    assert log.read_text().splitlines() == ["a ***", "b"]
