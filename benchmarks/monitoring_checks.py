"""Wall time of the monitoring checks, in-process: probe + analysis + promtool, median of N.

    .venv/bin/python benchmarks/monitoring_checks.py [--runs N] [--keep]

Brings up a sandbox in its own state folder (.sandbox-bench-mon/), sends some traffic so the
live color's SLO series have data, then times each check of checks/monitoring/ the way the
check calls the engine, and the whole set. The sandbox is torn down at the end (its data
folder is kept warm for the next run unless removed by hand).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import requests

from shiftgate.analysis import deploy_monitoring, pool_alerts
from shiftgate.analysis.pool_alerts import Rules
from shiftgate.config.paths import project_root
from shiftgate.probes import promtool
from shiftgate.probes.rule_files import read_rule_files, rule_paths
from shiftgate.sandbox import manager
from shiftgate.sandbox.state import STATE_DIR_ENV
from shiftgate.verdict import Verdict


def checks(env_name: str = "sandbox") -> dict[str, Callable[[], Verdict]]:
    from shiftgate.config.loader import load_environment
    from shiftgate.probes.prometheus import PrometheusProbe, recent_series

    env = load_environment(env_name)
    cfg = env.monitoring
    probe = PrometheusProbe(env.prometheus)
    files = rule_paths(env.prometheus.rule_files, project_root())

    def loaded() -> Rules:
        return Rules.loaded(probe.rules(), probe.source)

    def on_disk() -> Rules:
        return Rules.on_disk(read_rule_files(files))

    def can_fire() -> Verdict:
        rules = loaded()
        series = recent_series(probe, pool_alerts.alert_selectors(rules, cfg))
        return pool_alerts.alerts_can_fire(rules, series, cfg)

    def would_fire() -> Verdict:
        tests = pool_alerts.firing_tests(on_disk(), files, cfg)
        runs = {t.pool.name: promtool.run_rule_tests(t.files) for t in tests if t.files}
        return pool_alerts.alerts_would_fire(tests, runs)

    def slo_series() -> Verdict:
        series = {q: probe.query(q) for q in (cfg.error_ratio_query, cfg.latency_p95_query)}
        requests_rate = probe.query(cfg.requests_rate_query)
        return deploy_monitoring.slo_series(requests_rate, series, cfg, probe.source)

    return {
        "pool alert loaded": lambda: pool_alerts.alerts_loaded(loaded(), on_disk(), cfg),
        "pool alert strict": lambda: pool_alerts.alerts_strict(loaded(), cfg),
        "pool alert would fire (promtool test)": would_fire,
        "pool alert can fire here": can_fire,
        "SLO series have data": slo_series,
        "both colors scraped": lambda: deploy_monitoring.targets_up(
            probe.targets(), cfg.color_label, probe.source
        ),
        "SLO alerts": lambda: deploy_monitoring.slo_alerts(loaded(), cfg, env.slo),
        "promtool check rules": lambda: deploy_monitoring.rules_valid(
            promtool.check_rules(files), read_rule_files(files)
        ),
    }


def _ready(prometheus_url: str) -> bool:
    """Targets discovered (Prometheus waits ~5 s after start) and live traffic in the rates."""
    query = {"query": 'color:recommendation_errors:ratio_rate30s{color="green"}'
             ' and on(color) color:recommendation_requests:rate30s > 0'}
    answer = requests.get(f"{prometheus_url}/api/v1/query", params=query, timeout=5).json()
    targets = requests.get(f"{prometheus_url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    return bool(answer["data"]["result"]) and sum(t["health"] == "up" for t in targets) >= 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="repetitions; the median is printed")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running")
    args = parser.parse_args()
    folder = project_root() / ".sandbox-bench-mon"
    os.environ[STATE_DIR_ENV] = str(folder)
    try:
        manager.up(folder)
        status = manager.status(folder)
        deadline = time.monotonic() + 60
        while True:  # traffic until the live color's error ratio has data (two scrapes of it)
            for user_id in range(1, 20):
                url = f"{status['router_url']}/recommendations"
                requests.get(url, params={"user_id": user_id}, timeout=10)
            if _ready(status["prometheus_url"]) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        timings: dict[str, list[float]] = {}
        totals: list[float] = []
        verdicts: dict[str, Verdict] = {}
        for _ in range(args.runs):
            began_all = time.perf_counter()
            for name, run in checks().items():
                began = time.perf_counter()
                verdicts[name] = run()
                timings.setdefault(name, []).append(time.perf_counter() - began)
            totals.append(time.perf_counter() - began_all)
        print(f"monitoring checks, median of {args.runs} runs (sandbox {folder.name}):")
        for name, values in timings.items():
            verdict = verdicts[name]
            state = "pass" if verdict.passed else f"FAIL: {verdict.reason}"
            print(f"  {name:<40} {statistics.median(values) * 1000:8.1f} ms  {state}")
        print(f"  {'all 8 checks (incl. config load)':<40} {statistics.median(totals) * 1000:8.1f} ms")
    finally:
        if not args.keep:
            manager.down(folder)


if __name__ == "__main__":
    main()
