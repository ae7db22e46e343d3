"""Start-up of a gate process: wall time of `shiftgate gate preflight` and time to its first check.

    .venv/bin/python benchmarks/gate_startup.py [--runs N] [--tree PATH ...] [--skip-gate]

Prints, as medians of N runs (default 7), measured in the same run:

- `pytest --version`: a bare pytest process, the floor any gate pays;
- `shiftgate gate preflight --env sandbox`, whole process: start to exit;
- the same, start to first check: from just before the process is spawned to the first moment
  a check's own work began — the earliest start time the run's Allure results record (a
  fixture's setup or a check's body; allure-pytest stamps them from the same wall clock).
  Everything before it is start-up: interpreters, imports, plugins, configuration, collection.
- the CPU time (user + system) of the gate process and its pytest subprocess: less sensitive
  than wall time to other work on a shared machine.

``--tree PATH`` runs the commands from another checkout of the project (e.g. one made with
``git worktree add /tmp/sg-before <commit>``, without a virtualenv of its own): its sources
first on ``PYTHONPATH``, ``SHIFTGATE_ROOT`` set to it, and ``shiftgate`` run as its
``pyproject.toml`` declares the command. The gate uses this checkout's sandbox in every case.
Repeat ``--tree`` to compare checkouts: their runs are interleaved, so a machine busy with
other work weighs on each alike. Each tree's ``shiftgate`` gets its bytecode compiled first,
as ``make`` does.

The gate needs the sandbox: the benchmark brings it up when it is not running and takes it
down again at the end (only if it started it). ``--skip-gate`` measures `pytest --version`
only. Each gate run writes its reports into a temporary folder (SHIFTGATE_REPORTS_DIR), so
``reports/`` is left alone. The preflight gate's verdict does not matter here (in the
sandbox's incident state some of its checks fail, as they should).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from shiftgate.config.paths import project_root
from shiftgate.sandbox.state import STATE_DIR_ENV, state_dir

GATE = ["gate", "preflight", "--env", "sandbox"]


def shiftgate_command(python: str, tree: Path) -> list[str]:
    """``shiftgate`` as the tree's console script runs it: ``module:function``."""
    pyproject = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
    module, function = pyproject["project"]["scripts"]["shiftgate"].split(":")
    return [python, "-c", f"import sys; from {module} import {function}; sys.exit({function}())"]


def tree_environ(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    env["SHIFTGATE_ROOT"] = str(tree)
    env[STATE_DIR_ENV] = str(state_dir())  # this checkout's sandbox, whichever tree runs
    env.pop("SHIFTGATE_ENV", None)
    return env


def first_check_started(results: Path) -> float | None:
    """Earliest start (epoch seconds) of a fixture or a check body in Allure result files."""
    starts: list[int] = []
    for path in results.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if path.name.endswith("-result.json") and "start" in data:
            starts.append(data["start"])
        elif path.name.endswith("-container.json"):
            starts += [before["start"] for before in data.get("befores", []) if "start" in before]
    return min(starts) / 1000 if starts else None


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished, waited-for descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_gate(command: list[str], tree: Path, env: dict[str, str]) -> tuple[float, float, float | None]:
    """Wall time, CPU time (the gate process and its pytest) and start-to-first-check."""
    with tempfile.TemporaryDirectory(prefix="gate-startup-") as reports:
        env = {**env, "SHIFTGATE_REPORTS_DIR": reports}
        cpu = children_cpu()
        began = time.time()
        done = subprocess.run([*command, *GATE], cwd=tree, env=env, check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.time() - began
        cpu = children_cpu() - cpu
        if done.returncode not in (0, 1):
            sys.exit(f"the gate did not run (exit {done.returncode}):\n{done.stderr[-2000:]}")
        first = first_check_started(Path(reports) / "allure-results")
    return wall, cpu, (first - began if first is not None else None)


def pytest_version(python: str, tree: Path, env: dict[str, str]) -> float:
    began = time.time()
    subprocess.run([python, "-m", "pytest", "--version"], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.time() - began


def sandbox(python: str, *args: str) -> subprocess.CompletedProcess[str]:
    # This checkout's own command line, whatever --tree says.
    env = tree_environ(project_root())
    return subprocess.run([*shiftgate_command(python, project_root()), "sandbox", *args],
                          cwd=project_root(), env=env, check=False, capture_output=True, text=True)


def sandbox_running(python: str) -> bool:
    done = sandbox(python, "status", "--json")
    return done.returncode == 0 and bool(json.loads(done.stdout).get("running"))


def median(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s" if values else "     n/a"


@dataclass
class Figures:
    bare: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    firsts: list[float] = field(default_factory=list)


def measure(trees: list[Path], runs: int, python: str, gate: bool) -> dict[Path, Figures]:
    """Runs interleaved tree by tree, so a busy machine weighs on every tree alike."""
    figures = {tree: Figures() for tree in trees}
    for tree in trees:  # warm-up: bytecode caches, the page cache
        # Bytecode as `make` leaves it: under PYTHONDONTWRITEBYTECODE a tree without it would
        # compile every module from source in every run.
        subprocess.run([python, "-m", "compileall", "-q", str(tree / "shiftgate")], check=True)
        pytest_version(python, tree, tree_environ(tree))
        if gate:
            run_gate(shiftgate_command(python, tree), tree, tree_environ(tree))
    for _ in range(runs):
        for tree in trees:
            env = tree_environ(tree)
            figures[tree].bare.append(pytest_version(python, tree, env))
            if gate:
                wall, cpu, first = run_gate(shiftgate_command(python, tree), tree, env)
                figures[tree].walls.append(wall)
                figures[tree].cpus.append(cpu)
                if first is not None:
                    figures[tree].firsts.append(first)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (median)")
    parser.add_argument("--tree", type=Path, action="append",
                        help="checkout to run the commands from (default: this one); repeat "
                        "to compare checkouts, their runs interleaved")
    parser.add_argument("--skip-gate", action="store_true",
                        help="measure `pytest --version` only (no sandbox needed)")
    parser.add_argument("--python", default=sys.executable, help="interpreter (default: this one)")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree or [project_root()]]
    started_sandbox = False
    if not args.skip_gate and not sandbox_running(args.python):
        print("starting the sandbox (`shiftgate sandbox up`) …", flush=True)
        done = sandbox(args.python, "up")
        if done.returncode != 0:
            sys.exit(f"shiftgate sandbox up failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        started_sandbox = True
    try:
        figures = measure(trees, args.runs, args.python, gate=not args.skip_gate)
    finally:
        if started_sandbox:
            sandbox(args.python, "down")
    gate = "shiftgate " + " ".join(GATE)
    print(f"median of {args.runs} runs")
    for tree, got in figures.items():
        print(f"tree {tree}")
        print(f"  {'pytest --version':<40}  {median(got.bare)}")
        if not args.skip_gate:
            print(f"  {gate:<40}  {median(got.walls)}  (whole process)")
            print(f"  {'':<40}  {median(got.cpus)}  (whole process, CPU: user + system)")
            print(f"  {'':<40}  {median(got.firsts)}  (start to first check)")


if __name__ == "__main__":
    main()
