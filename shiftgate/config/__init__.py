"""Configuration: typed models, the environment loader, YAML reading, gate files, paths.

Imports only the core types (errors, redaction) and pydantic/PyYAML: every other package may
import it.
"""
