"""``promtool test rules`` on production's rendering of the team's rules (deploy/prometheusrule.yaml).

At production's 15 s scrapes and 1 m / 2 m windows: a candidate serving requests without a
single 5xx has an error ratio of 0 (present, not absent: absent reads as "no data" and the
shift gate fails closed on every healthy release), and a candidate failing 30 % of its
requests fires RecommendationErrorRatioHigh after its `for` while the clean one stays quiet.
A copy without the `or … * 0` term proves the test can tell the difference.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shiftgate.config.paths import project_root

PROMTOOL = shutil.which("promtool")
RULE = project_root() / "deploy" / "prometheusrule.yaml"
pytestmark = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)"
)

SERIES = 'recommendation_requests_total{route="/recommendations", color="%s", version="%s", status="%s"}'
TESTS = {
    "rule_files": ["rules.yml"],
    "evaluation_interval": "30s",
    "tests": [
        {
            "interval": "15s",
            "input_series": [
                # blue: the candidate, 10 req/s, not one 5xx (no 5xx series at all)
                {"series": SERIES % ("blue", "2.5.0", "200"), "values": "0+150x40"},
                # green: 7 req/s fine, 3 req/s failing: 30 % errors
                {"series": SERIES % ("green", "2.4.3", "200"), "values": "0+105x40"},
                {"series": SERIES % ("green", "2.4.3", "500"), "values": "0+45x40"},
            ],
            "promql_expr_test": [
                {
                    "expr": "color:recommendation_errors:ratio_rate1m",
                    "eval_time": "5m",
                    "exp_samples": [
                        {"labels": 'color:recommendation_errors:ratio_rate1m{color="blue", version="2.5.0"}',
                         "value": 0},
                        {"labels": 'color:recommendation_errors:ratio_rate1m{color="green", version="2.4.3"}',
                         "value": 0.3},
                    ],
                },
                {
                    "expr": 'color:recommendation_errors:ratio_rate2m{color="blue"}',
                    "eval_time": "5m",
                    "exp_samples": [
                        {"labels": 'color:recommendation_errors:ratio_rate2m{color="blue", version="2.5.0"}',
                         "value": 0},
                    ],
                },
                {
                    "expr": 'color:recommendation_requests:rate2m{color="blue"}',
                    "eval_time": "5m",
                    "exp_samples": [
                        {"labels": 'color:recommendation_requests:rate2m{color="blue", version="2.5.0"}',
                         "value": 10},
                    ],
                },
            ],
            "alert_rule_test": [
                {"eval_time": "1m", "alertname": "RecommendationErrorRatioHigh", "exp_alerts": []},
                {
                    "eval_time": "5m",
                    "alertname": "RecommendationErrorRatioHigh",
                    "exp_alerts": [
                        {
                            "exp_labels": {"severity": "page", "color": "green", "version": "2.4.3"},
                            "exp_annotations": {
                                "summary": "green (2.4.3) fails over 5% of requests",
                                "runbook_url": "https://github.com/example/recommendation/blob/main/docs/"
                                "runbook-recommendation-blue-green.md#rollback-procedure",
                            },
                        }
                    ],
                },
            ],
        }
    ],
}


def _promtool(tmp_path: Path, spec: dict[str, object]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(spec))
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(TESTS, sort_keys=False))
    return subprocess.run(
        [str(PROMTOOL), "test", "rules", "tests.yml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )


def test_production_rules_pass_promtool(tmp_path: Path) -> None:
    spec = yaml.safe_load(RULE.read_text())["spec"]
    result = _promtool(tmp_path, spec)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_the_zero_term_a_clean_candidate_has_no_ratio(tmp_path: Path) -> None:
    """The bad state: the hand-kept copy this file replaced. promtool must catch it."""
    spec = yaml.safe_load(RULE.read_text())["spec"]
    for group in spec["groups"]:
        for rule in group["rules"]:
            if "ratio_rate" in rule.get("record", ""):
                head, _, rest = rule["expr"].partition("\n  or\n")
                rule["expr"] = head.strip().lstrip("(") + "\n/" + rest.split(")\n/", 1)[1]
    result = _promtool(tmp_path, spec)
    assert result.returncode != 0
    assert 'color="blue"' in result.stdout + result.stderr
