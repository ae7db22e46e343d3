"""shiftgate: deployment gates for blue-green releases, written as pytest tests.

The engine (this package) works without pytest; only ``shiftgate.pytest_plugin`` imports it.
"""

__version__ = "0.1.0"
