"""Run a traffic profile against a URL with Locust and return its statistics.

Two ways, one result:

- in-process (``workers=0``): Locust as a library, ``Environment`` + local runner, for rates
  one core can generate;
- distributed (``workers=N``): a headless Locust master with N local worker processes, for
  more cores (``deploy/locust/`` runs the same locustfile as master + workers on Kubernetes).

Both write Locust's CSV files under ``out_dir`` and are read back by ``load_results``.
In-process runs do not monkey-patch the interpreter (``LOCUST_SKIP_MONKEY_PATCH``): the
FastHttpUser's client is gevent-native, and the caller's psycopg and requests stay untouched.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from shiftgate.config.models import Color, Environment, other_color
from shiftgate.config.paths import project_root
from shiftgate.errors import ShiftgateError
from shiftgate.load.profile import LoadProfile, load_profile
from shiftgate.load.results import LoadResult, csv_files, read_history, read_stats
from shiftgate.ports import free_port
from shiftgate.probes.router import live_color
from shiftgate.probes.views import router_view

LOCUSTFILE = project_root() / "loadtests" / "recommendations.py"
_GRACE_S = 60.0
SKIP_PATCH = "LOCUST_SKIP_MONKEY_PATCH"  # start-up and shutdown beyond the profile's own duration


class LoadTestError(ShiftgateError):
    """The load generator itself failed (not the service under test)."""


def run_profile(
    profile_path: str | Path, url: str, *, out_dir: Path, workers: int = 0
) -> LoadResult:
    profile = load_profile(profile_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / "locust"
    for old in csv_files(prefix):
        old.unlink()
    started = time.time()
    if workers > 0:
        _run_distributed(Path(profile_path), profile, url, prefix, workers)
    else:
        _run_in_process(profile, url, prefix)
    ended = time.time()
    try:
        total, endpoints = read_stats(prefix)
        history = read_history(prefix)
    except (OSError, ValueError, KeyError) as exc:
        raise LoadTestError(f"Locust wrote no usable statistics in {out_dir}: {exc}") from None
    return LoadResult(
        profile=profile, url=url, workers=workers, started=started, ended=ended,
        total=total, endpoints=endpoints, history=history, csv_files=csv_files(prefix),
    )


def resolve_target(environment: Environment) -> tuple[Color, str]:
    """The color ``load.target`` names and its own URL; ``idle`` is read from the router."""
    target = environment.load.target
    color: Color
    if target == "blue" or target == "green":
        color = target
    else:
        live = live_color(router_view(environment).weights())
        color = live if target == "live" else other_color(live)
    return color, environment.service.color_urls[color]


def _locustfile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shiftgate_locustfile", LOCUSTFILE)
    if spec is None or spec.loader is None:
        raise LoadTestError(f"cannot load {LOCUSTFILE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_in_process(profile: LoadProfile, url: str, prefix: Path) -> None:
    os.environ.setdefault(SKIP_PATCH, "1")
    import gevent
    from locust.env import Environment
    from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter

    logging.getLogger("locust").setLevel(logging.WARNING)
    user_class, shape_class = _locustfile().build(profile)
    env = Environment(user_classes=[user_class], shape_class=shape_class(), host=url)
    runner = env.create_local_runner()
    writer = StatsCSVFileWriter(env, PERCENTILES_TO_REPORT, str(prefix), full_history=True)
    writer_greenlet = gevent.spawn(writer)
    try:
        runner.start_shape()
        shape = runner.shape_greenlet
        if shape is not None:
            shape.join(timeout=profile.shape.duration_s + _GRACE_S)
        runner.stop()
        gevent.sleep(1.1)  # one more pass of the writer: the final figures reach the files
    finally:
        writer_greenlet.kill()
        writer.close_files()
        runner.quit()


def _run_distributed(
    profile_path: Path, profile: LoadProfile, url: str, prefix: Path, workers: int
) -> None:
    port = free_port()
    env = {**os.environ, "SHIFTGATE_LOAD_PROFILE": str(profile_path.resolve())}
    # An in-process run earlier in this process set it; Locust's own processes need gevent's
    # monkey-patching (the master would hang without it).
    env.pop(SKIP_PATCH, None)
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    log = (prefix.parent / "locust-master.log").open("wb")
    master = subprocess.Popen(
        [*locust, "--headless", "--master", "--expect-workers", str(workers),
         "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
         "--host", url, "--csv", str(prefix), "--csv-full-history", "--only-summary"],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    children = [
        subprocess.Popen(
            [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        code = master.wait(timeout=profile.shape.duration_s + _GRACE_S)
    except subprocess.TimeoutExpired:
        raise LoadTestError(f"Locust master did not finish; see {log.name}") from None
    finally:
        for proc in [master, *children]:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        log.close()
    # Locust exits 1 when requests failed: that is the service's verdict, not ours.
    if code not in (0, 1):
        raise LoadTestError(f"Locust master exited {code}; see {log.name}")
