"""Reports: Allure conventions and evidence, JUnit summaries, summary.md and the HTML report.

May import analysis, probes, config and the core types; never the runner or the command line.
"""
