"""How the command line prints its own messages: verbatim, never as markup.

Messages carry text from the world (a check's failure, a PromQL query, a path such as
``[/recommendations]``). rich would read ``[...]`` as markup and raise ``MarkupError`` in the
middle of reporting an error (issue 12), so text goes in as ``rich.text.Text`` and only the
headline is styled. rich is imported here, when there is something to print: it is not needed
on the way to a gate.
"""

from __future__ import annotations

import sys


def error(message: str, *, headline: str = "shiftgate:", sep: str = " ") -> None:
    """``headline message`` on stderr, the headline bold red, the message as it is."""
    try:
        from rich.console import Console
        from rich.text import Text

        # soft_wrap: a path or a DSN is never cut at the console's width (CI logs, grep).
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            Text.assemble((headline, "bold red"), sep if message else "", message)
        )
    except Exception:  # the last word must reach the person
        print(f"{headline}{sep}{message}", file=sys.stderr, flush=True)
