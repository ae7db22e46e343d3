"""Read-only client of the Prometheus HTTP API (and Alertmanager's status).

Its facts (``Sample``, ``Series``) live in ``shiftgate.probes.prometheus_facts``, so analysis
reads them without importing this client.

Every call has ``timeout=config.timeout_s``; connection errors, timeouts and 5xx answers are
retried (tenacity) up to ``config.retries`` attempts, then raise ``SourceUnavailable`` — a
failed check, never a skip (docs/architecture.md rule 1). A 4xx or an answer with ``"status": "error"``
is not retried: a bad query stays bad; it raises with Prometheus's own error text.

NaN and ±Inf values are kept as floats; the analysis decides (and fails closed on NaN).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from shiftgate.config.models import PrometheusConfig
from shiftgate.errors import SourceUnavailable
from shiftgate.probes.prometheus_facts import Sample, Series
from shiftgate.steps import step

if TYPE_CHECKING:
    import requests

# requests and tenacity are imported when the probe is built and used, not with this module:
# every check module imports the probe classes, and a gate's start-up should not pay for them
# before its first check runs (issue 11).


class _Transient(Exception):
    """A failure worth another attempt: refused, timed out, 5xx."""


class PrometheusProbe:
    def __init__(self, config: PrometheusConfig, session: requests.Session | None = None) -> None:
        self.settings = config
        self.url = config.url.rstrip("/")
        self.source = f"prometheus {self.url}"
        if session is None:
            import requests

            session = requests.Session()
        self._session = session

    # -- queries -----------------------------------------------------------------------------
    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        data = self._api("/api/v1/query", params)
        kind, result = data.get("resultType"), data.get("result")
        if kind in ("scalar", "string"):
            return [Sample(labels={}, value=float(result[1]), timestamp=float(result[0]))]
        if kind != "vector":
            raise SourceUnavailable(self.source, f"query {promql!r} returned a {kind}, not a vector")
        return [
            Sample(labels=dict(r["metric"]), value=float(r["value"][1]), timestamp=float(r["value"][0]))
            for r in result
        ]

    def raw_samples(self, selector: str, start: float, end: float) -> list[Series]:
        """Every sample a selector stored in [start, end], with its own timestamp (an instant
        query of a range selector at ``end``: no evaluation steps, no lookback)."""
        span_ms = max(1, round((end - start) * 1000))
        data = self._api("/api/v1/query", {"query": f"{selector}[{span_ms}ms]", "time": end})
        if data.get("resultType") != "matrix":
            kind = data.get("resultType")
            raise SourceUnavailable(self.source, f"{selector!r}: expected a matrix, got {kind}")
        return [
            Series(labels=dict(r["metric"]), points=[(float(t), float(v)) for t, v in r["values"]])
            for r in data.get("result", [])
        ]

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> list[Series]:
        params = {"query": promql, "start": start, "end": end, "step": step_s}
        data = self._api("/api/v1/query_range", params)
        return [
            Series(labels=dict(r["metric"]), points=[(float(t), float(v)) for t, v in r["values"]])
            for r in data.get("result", [])
        ]

    def series(
        self, match: str, start: float | None = None, end: float | None = None
    ) -> list[dict[str, str]]:
        """Label sets of the series a selector matches (default: Prometheus's recent window)."""
        params: dict[str, Any] = {"match[]": match}
        if start is not None:
            params["start"] = start
        if end is not None:
            params["end"] = end
        result: list[dict[str, str]] = self._api("/api/v1/series", params)
        return result

    # -- state -------------------------------------------------------------------------------
    def rules(self) -> list[dict[str, Any]]:
        """Loaded rule groups, as /api/v1/rules returns them (``file``, ``rules``, ...)."""
        groups: list[dict[str, Any]] = self._api("/api/v1/rules", {}).get("groups", [])
        return groups

    def alerting_rules(self) -> list[dict[str, Any]]:
        """Every loaded alerting rule, each with the ``file`` and ``group`` it came from."""
        return [
            {**rule, "file": group.get("file", ""), "group": group.get("name", "")}
            for group in self.rules()
            for rule in group.get("rules", [])
            if rule.get("type") == "alerting"
        ]

    def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets (``labels``, ``health``, ``lastError``, ``scrapeUrl``)."""
        active: list[dict[str, Any]] = self._api("/api/v1/targets", {"state": "active"}).get(
            "activeTargets", []
        )
        return active

    def config(self) -> str:
        """The loaded configuration as YAML text (/api/v1/status/config)."""
        return str(self._api("/api/v1/status/config", {}).get("yaml", ""))

    def build_info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._api("/api/v1/status/buildinfo", {})
        return info

    def alertmanager_status(self) -> dict[str, Any]:
        """Alertmanager's /api/v2/status (its config as ``config.original``)."""
        if not self.settings.alertmanager_url:
            raise SourceUnavailable(self.source, "no alertmanager_url configured")
        url = self.settings.alertmanager_url.rstrip("/") + "/api/v2/status"
        body: dict[str, Any] = self._get_json(url, {}, f"alertmanager {self.settings.alertmanager_url}")
        return body

    # -- transport ---------------------------------------------------------------------------
    def _api(self, path: str, params: dict[str, Any]) -> Any:
        body = self._get_json(self.url + path, params, self.source)
        if body.get("status") != "success":
            error = body.get("error") or "no error text"
            raise SourceUnavailable(self.source, f"{path} {body.get('errorType', 'error')}: {error}")
        return body.get("data")

    def _get_json(self, url: str, params: dict[str, Any], source: str) -> dict[str, Any]:
        # One report step per API call, retries included, titled with the query it sent.
        with step(f"{source}: GET {url.split('://', 1)[-1].partition('/')[2]} {_params(params)}"):
            return self._get_json_retrying(url, params, source)

    def _get_json_retrying(self, url: str, params: dict[str, Any], source: str) -> dict[str, Any]:
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.settings.retries),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._get_once(url, params, source)
        except _Transient as exc:
            raise SourceUnavailable(
                source, f"{exc} (after {self.settings.retries} attempts)"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover - Retrying returns or raises

    def _get_once(self, url: str, params: dict[str, Any], source: str) -> dict[str, Any]:
        import requests

        path = url.split("://", 1)[-1].partition("/")[2]
        try:
            response = self._session.get(url, params=params, timeout=self.settings.timeout_s)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(f"/{path}: {type(exc).__name__}: {_short(exc)}") from None
        if response.status_code >= 500:
            raise _Transient(f"/{path}: HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError:
            raise SourceUnavailable(
                source, f"/{path}: HTTP {response.status_code}, not JSON: {response.text[:200]}"
            ) from None
        if not isinstance(body, dict):
            raise SourceUnavailable(source, f"/{path}: unexpected answer {str(body)[:200]}")
        if response.status_code >= 400 and body.get("status") != "error":
            raise SourceUnavailable(source, f"/{path}: HTTP {response.status_code}: {response.text[:200]}")
        return body


SERIES_LOOKBACK_S = 300.0
"""A series counts as existing now with a sample in the last 5 minutes (Prometheus's lookback)."""


def instant_values(probe: PrometheusProbe, queries: Mapping[str, str]) -> dict[str, float | None]:
    """Each query (name -> PromQL) at the current instant: its first sample's value, None
    when it returns no sample."""
    values: dict[str, float | None] = {}
    for name, promql in queries.items():
        samples = probe.query(promql)
        values[name] = samples[0].value if samples else None
    return values


def recent_series(
    probe: PrometheusProbe, selectors: Iterable[str], *, now: float | None = None,
    window_s: float = SERIES_LOOKBACK_S,
) -> dict[str, list[dict[str, str]]]:
    """Label sets of the series each selector matches that had a sample in the last
    ``window_s`` seconds."""
    end = time.time() if now is None else now
    return {s: probe.series(s, start=end - window_s, end=end) for s in dict.fromkeys(selectors)}


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in params.items())


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
