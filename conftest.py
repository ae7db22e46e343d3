"""pytest wiring of the project: registers shiftgate's plugin for ``checks/`` and ``tests/``.

The plugin (``shiftgate.pytest_plugin``) adds ``--env``, ``--gate``, ``--set`` and
``--candidate``, the ``environment`` fixture, gate selection, the fail-closed rule and Allure
labels. It lives in the engine so ``shiftgate gate`` and plain ``pytest checks/...`` behave
the same; this root conftest only registers it (a root conftest is the one place pytest
allows ``pytest_plugins``, so ``checks/`` needs neither a conftest nor an ``__init__.py``).
"""

pytest_plugins = ["shiftgate.pytest_plugin"]
