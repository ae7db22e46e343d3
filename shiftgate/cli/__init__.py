"""The command line: one module per command group; parses arguments and calls the engine.

May import every other package; nothing imports it.
"""
