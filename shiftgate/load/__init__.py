"""Load tests: the traffic profile, running Locust, reading its results, the chart.

May import probes, config and the core types; Locust and matplotlib are imported only where used.
"""
