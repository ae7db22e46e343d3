"""Configuration: typed models, the environment loader, YAML reading, gate files, paths.

Imports only the core types (errors, redaction), pydantic/PyYAML and the SQL and PromQL
parsers: every other package may import it.
"""
