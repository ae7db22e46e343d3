"""Bounds across settings that a single field's type cannot express.

Each rule closes a way to switch a check off while the file still loads: a failure limit the
window can never reach (a candidate failing every request would pass), a ``min_samples`` no
window can collect (nothing could pass), a latency threshold in the wrong unit, an effect-size
bound of 1 (the comparison could never block), a window of years. The loader calls
``problems`` after validating the models and turns the first one into a ``ConfigError`` naming
the key and where its value came from (file, ``${VAR}``, ``SHIFTGATE_*`` or ``--set``).

Finite numbers are enforced for every float by the models themselves (``allow_inf_nan=False``
on ``shiftgate.config.models.Strict``).
"""

from __future__ import annotations

import math

from shiftgate.config.models import AnalysisConfig, Environment, MonitoringConfig, SloConfig

Key = tuple[str, ...]
Problem = tuple[Key, str]

LATENCY_MIN_MS = 1.0
"""Below 1 ms a p95 threshold is seconds written as milliseconds (0.3 meant 300 ms)."""
LATENCY_MAX_MS = 60_000.0
"""Above 60 s a latency threshold no longer judges an HTTP service."""
WINDOW_MAX_S = 3600.0
"""An analysis window longer than an hour holds traffic split for longer than any release should."""
_UNIT_BY_SUFFIX = {"_seconds": 1.0, "_milliseconds": 0.001, "_ms": 0.001, "_microseconds": 1e-6}


def measurements_in_window(config: AnalysisConfig) -> int:
    """Measurements one window takes: at 0, interval, 2 x interval, … up to ``window_s``
    (``shiftgate.analysis.window.observe``)."""
    return math.floor(config.window_s / config.interval_s + 1e-9) + 1


def analysis_problems(config: AnalysisConfig) -> list[Problem]:
    problems: list[Problem] = []
    if config.window_s > WINDOW_MAX_S:
        problems.append((("analysis", "window_s"),
                         f"{config.window_s:g} s is longer than {WINDOW_MAX_S:g} s"))
        return problems  # the counts below would only repeat the same mistake
    held = measurements_in_window(config)
    held_text = (f"a window of {config.window_s:g} s measured every {config.interval_s:g} s "
                 f"holds {held} measurements")
    if config.failure_limit > held:
        problems.append((("analysis", "failure_limit"),
                         f"{config.failure_limit} can never be reached: {held_text}, so a "
                         "candidate failing every measurement would pass"))
    if config.min_samples > held:
        problems.append((("analysis", "min_samples"),
                         f"{config.min_samples} can never be collected: {held_text}, so no "
                         "window could pass"))
    if not 0 < config.compare_effect_max < 1:
        problems.append((("analysis", "compare_effect_max"),
                         f"{config.compare_effect_max:g} must lie inside (0, 1): at 1 the "
                         "comparison can never block, at 0 any noise blocks"))
    if config.compare_slowdown_min_ms > LATENCY_MAX_MS:
        problems.append((("analysis", "compare_slowdown_min_ms"),
                         f"{config.compare_slowdown_min_ms:g} ms is above {LATENCY_MAX_MS:g} ms: "
                         "no slowdown would count"))
    return problems


def slo_problems(config: SloConfig) -> list[Problem]:
    value = config.latency_p95_max_ms
    if not LATENCY_MIN_MS <= value <= LATENCY_MAX_MS:
        return [(("slo", "latency_p95_max_ms"),
                 f"{value:g} ms is outside [{LATENCY_MIN_MS:g} ms, {LATENCY_MAX_MS:g} ms]"
                 " (seconds written as milliseconds?)")]
    return []


def latency_unit_problems(config: MonitoringConfig) -> list[Problem]:
    """A latency series named for its unit (Prometheus naming: ``_seconds``) fixes the unit."""
    query = config.latency_p95_query
    for suffix, unit in _UNIT_BY_SUFFIX.items():
        if suffix in query and not math.isclose(config.latency_unit_s, unit):
            return [(("monitoring", "latency_unit_s"),
                     f"{config.latency_unit_s:g} contradicts the latency series {query!r}: "
                     f"its name says {suffix[1:]}, {unit:g} s per unit")]
    return []


def problems(environment: Environment) -> list[Problem]:
    """Every bound the environment breaks, each with its dotted key."""
    return [
        *analysis_problems(environment.analysis),
        *slo_problems(environment.slo),
        *latency_unit_problems(environment.monitoring),
    ]
