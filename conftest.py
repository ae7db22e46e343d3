"""pytest wiring of this repository: shiftgate's plugin for ``checks/`` and ``tests/``.

The plugin (``shiftgate.pytest_plugin``) adds ``--env``, ``--gate``, ``--set`` and
``--candidate``, the ``environment`` fixture, gate selection, the fail-closed rule and Allure
labels. An installed shiftgate loads it through its ``pytest11`` entry point, and gate runs
name it with ``-p``: a team's repository needs no conftest. This line serves a checkout run
without installing (``PYTHONPATH=.``). pytest registers it once either way: the entry point
is named as the module, and pytest skips a plugin already registered under its name
(tests/unit/test_packaging.py).
"""

pytest_plugins = ["shiftgate.pytest_plugin"]
