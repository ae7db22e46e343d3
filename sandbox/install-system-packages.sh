#!/usr/bin/env bash
# Installs the system packages the sandbox runs (PostgreSQL, HAProxy, Prometheus + promtool,
# wrk for benchmarks) with apt-get, only those missing. Debian/Ubuntu.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || missing+=(postgresql)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v wrk >/dev/null || missing+=(wrk)
# kubectl: tests run `kubectl apply --dry-run=client` on deploy/ (Debian's kubernetes-client).
command -v kubectl >/dev/null || missing+=(kubernetes-client)
command -v prometheus-postgres-exporter >/dev/null || missing+=(prometheus-postgres-exporter)
# chromium: the HTML report's browser test (tests/e2e/test_report_browser.py).
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null; then
  apt=(sudo apt-get)
else
  echo "missing ${missing[*]} and not root (no sudo): install them with apt-get" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
# policy-rc.d-free environments (containers) just skip starting the distribution's services;
# the sandbox starts its own instances on free ports either way.
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The distribution's packages may start their own daemons; ours never use them.
for svc in postgresql haproxy prometheus prometheus-postgres-exporter; do
  if command -v service >/dev/null && service "$svc" status >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done
