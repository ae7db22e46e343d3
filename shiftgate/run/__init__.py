"""The runner: plans, stages, gate execution, the journal and lock, the live view.

Acts on the world only through the platform and router adapters it is handed; may import
report, analysis, adapters, probes, config and the core types, never the command line.
"""
