"""Read-only clients of the world a gate checks: PostgreSQL, Prometheus, Kubernetes, routers."""
