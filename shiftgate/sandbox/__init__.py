"""The embedded sandbox: real PostgreSQL, the sample service in two colors, HAProxy, Prometheus.

Started and stopped by the project itself (``shiftgate sandbox up | down``); it is the default
target of every gate and the real world of the integration tests.
"""
