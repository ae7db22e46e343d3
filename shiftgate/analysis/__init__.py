"""Pure verdict logic: facts from the probes plus configuration in, ``Verdict`` out.

Pure means: no subprocess, no HTTP or database client, no file reads or writes, no clock
but one passed in (``window.Clock``). The probes read the world and hand over facts (their
``*_facts`` modules, ``probes.platform``'s data types); the checks wire probe to analysis.

Naming rule: a public function that returns a ``Verdict`` is named for the fact it judges,
what must hold, so a check reads "expect(<fact>)": ``connection_capacity``,
``required_indexes``, ``query_plans``, ``alerts_strict``, ``load_was_real``,
``latency_against_stable``, ``rules_valid``. No ``_verdict`` suffix, no verb prefix
(``judge_``, ``check_``). Functions that return anything else are named for what they
return (``peak_demand``, ``alert_selectors``, ``firing_tests``, ``measurement``).

Words: "plan" is the deployment plan only; what PostgreSQL's EXPLAIN returns is a
"query plan" (``query_plans``, ``probes.postgres_facts.QueryPlanFact``).
"""
