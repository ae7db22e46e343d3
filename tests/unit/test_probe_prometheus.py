"""The Prometheus probe over real HTTP (a tiny local server): parsing, errors, bounded retries."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from shiftgate.config.models import PrometheusConfig
from shiftgate.errors import SourceUnavailable
from shiftgate.probes.prometheus import PrometheusProbe, instant_values, recent_series


class Handler(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, Any]]] = []
    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.calls.append(self.path)
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.calls.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def probe(url: str, retries: int = 3) -> PrometheusProbe:
    return PrometheusProbe(PrometheusConfig(url=url, timeout_s=2, retries=retries))


def ok(data: Any) -> tuple[int, Any]:
    return 200, {"status": "success", "data": data}


def test_query_keeps_nan(server: str) -> None:
    Handler.answers = [ok({"resultType": "vector", "result": [
        {"metric": {"color": "blue"}, "value": [1.5, "0.25"]},
        {"metric": {"color": "green"}, "value": [1.5, "NaN"]},
    ]})]
    samples = probe(server).query("x")
    assert samples[0].labels == {"color": "blue"} and samples[0].value == 0.25
    assert math.isnan(samples[1].value)


def test_query_range_and_series(server: str) -> None:
    matrix = [{"metric": {"a": "b"}, "values": [[1, "1"], [2, "2"]]}]
    Handler.answers = [ok({"resultType": "matrix", "result": matrix})]
    series = probe(server).query_range("x", 0, 10, 1)
    assert series[0].points == [(1.0, 1.0), (2.0, 2.0)]
    Handler.answers = [ok([{"__name__": "x"}])]
    assert probe(server).series("x", start=1, end=2) == [{"__name__": "x"}]
    assert "start=1" in Handler.calls[-1]


def test_error_status_raises_with_prometheus_text(server: str) -> None:
    Handler.answers = [(400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"})]
    with pytest.raises(SourceUnavailable, match="parse error at char 3"):
        probe(server).query("x >")
    assert len(Handler.calls) == 1  # a bad query is not retried


def test_5xx_is_retried_then_fails(server: str) -> None:
    Handler.answers = [(503, "overloaded")]
    with pytest.raises(SourceUnavailable, match=r"HTTP 503.*after 2 attempts"):
        probe(server, retries=2).rules()
    assert len(Handler.calls) == 2


def test_5xx_then_success(server: str) -> None:
    Handler.answers = [(502, "x"), ok({"groups": [{"name": "g", "rules": []}]})]
    assert probe(server).rules() == [{"name": "g", "rules": []}]


def test_refused_connection_fails_closed() -> None:
    with pytest.raises(SourceUnavailable, match=r"prometheus http://127\.0\.0\.1:9"):
        probe("http://127.0.0.1:9", retries=1).targets()


def test_alertmanager_needs_url(server: str) -> None:
    with pytest.raises(SourceUnavailable, match="no alertmanager_url"):
        probe(server).alertmanager_status()


def test_instant_values_take_the_first_sample_or_none(server: str) -> None:
    Handler.answers = [
        ok({"resultType": "vector", "result": [{"metric": {}, "value": [1.5, "0.25"]}]}),
        ok({"resultType": "vector", "result": []}),
    ]
    assert instant_values(probe(server), {"a": "x", "b": "y"}) == {"a": 0.25, "b": None}
    assert [c.split("query=")[1] for c in Handler.calls] == ["x", "y"]


def test_recent_series_look_back_five_minutes_once_per_selector(server: str) -> None:
    Handler.answers = [ok([{"__name__": "x", "color": "blue"}])]
    found = recent_series(probe(server), ["x", "x", "y"], now=1000.0)
    assert found == {"x": [{"__name__": "x", "color": "blue"}], "y": [{"__name__": "x", "color": "blue"}]}
    assert len(Handler.calls) == 2
    assert all("start=700.0" in c and "end=1000.0" in c for c in Handler.calls)


def test_refused_connection_fails_instant_values_closed() -> None:
    with pytest.raises(SourceUnavailable):
        instant_values(probe("http://127.0.0.1:1", retries=1), {"a": "x"})
