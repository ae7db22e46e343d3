# shiftgate's one image: the gate Job, the Argo Rollouts AnalysisTemplate, the Flagger hooks and
# the distributed Locust Jobs all run it (tests/integration/test_kubernetes_image.py checks
# every manifest and pipeline names this image and its entrypoint). Built and pushed by
# ci/github/image.yml. Non-root, entrypoint `shiftgate`; `locust` is its second binary.
#
# Stage 1 builds the wheel and installs it with its dependencies into a virtualenv;
# stage 2 copies the virtualenv, promtool and the team's project files (checks, gates,
# plans, environments, loadtests, sandbox rule files, deploy/, docs/ for runbook links) to /app.

FROM python:3.11-slim-bookworm AS build
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
 && cp /usr/bin/promtool /promtool \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shiftgate/ shiftgate/
RUN python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --upgrade pip \
 && /venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
RUN useradd --uid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin shiftgate
COPY --from=build /venv /venv
COPY --from=build /promtool /usr/local/bin/promtool
WORKDIR /app
COPY conftest.py pyproject.toml ./
COPY checks/ checks/
COPY gates/ gates/
COPY plans/ plans/
COPY environments/ environments/
COPY loadtests/ loadtests/
COPY deploy/ deploy/
COPY docs/ docs/
COPY sandbox/prometheus/ sandbox/prometheus/
# The project's files are /app (SHIFTGATE_ROOT), reports go to a writable mount, and every
# cache lands in /tmp: the root filesystem is read-only under Pod Security "restricted".
ENV PATH=/venv/bin:$PATH \
    SHIFTGATE_ROOT=/app \
    SHIFTGATE_REPORTS_DIR=/app/reports \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    XDG_CACHE_HOME=/tmp/.cache \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
ENTRYPOINT ["shiftgate"]
CMD ["--help"]
