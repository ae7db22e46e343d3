"""The highest request rate the load generator reaches on this machine, against the
sandbox's /healthz, beside what wrk reaches on the same endpoint in the same run.

    .venv/bin/python benchmarks/loadgen_capacity.py [--workers 2] [--seconds 10] [--users 40]

One Locust worker is one process on one core (FastHttpUser, no think time); N workers are
a headless master with N worker processes. wrk (C, event loop) is the ceiling: what the
endpoint itself can serve here. Uses its own sandbox folder (.sandbox-bench-load/), removed
at the end.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from shiftgate.config.paths import project_root
from shiftgate.load.run import run_profile
from shiftgate.sandbox import manager


def capacity_profile(folder: Path, users: int, seconds: float) -> Path:
    profile = {
        "name": "capacity",
        "description": "no think time, /healthz only: the generator's own ceiling",
        "target_rps": 1_000_000,
        "per_user_rps": 0,
        "users": users,
        "shape": {"ramp_s": 1, "steady_s": seconds, "spike_s": 0, "spike_factor": 1},
        "mix": {"recommendations": 0, "health": 1},
        "min_requests": 1,
        "segments": {"source": "unused", "popularity": [{"segment": 0, "share": 1, "users": [1]}]},
    }
    path = folder / "capacity.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


def wrk_rate(url: str, seconds: float, connections: int) -> float:
    if not shutil.which("wrk"):
        return float("nan")
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", url],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the N run")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--users", type=int, default=40)
    args = parser.parse_args()
    folder = project_root() / ".sandbox-bench-load"
    try:
        manager.up(folder)
        url = manager.status(folder)["colors"]["green"]["url"]
        with tempfile.TemporaryDirectory() as tmp:
            profile = capacity_profile(Path(tmp), args.users, args.seconds)
            one = run_profile(profile, url, out_dir=Path(tmp) / "one").steady_rate()
            many = run_profile(profile, url, out_dir=Path(tmp) / "many", workers=args.workers).steady_rate()
        ceiling = wrk_rate(f"{url}/healthz", args.seconds, args.users)
    finally:
        manager.down(folder)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"endpoint: sandbox /healthz through HAProxy, {args.users} connections/users, {args.seconds:g} s")
    print(f"locust, 1 worker (in-process): {one:8.0f} req/s   {one / ceiling:5.0%} of wrk")
    print(f"locust, {args.workers} workers:            {many:8.0f} req/s   {many / ceiling:5.0%} of wrk")
    print(f"wrk (ceiling):                 {ceiling:8.0f} req/s")
    print(f"N workers / 1 worker:          {many / one:8.2f}x")


if __name__ == "__main__":
    main()
