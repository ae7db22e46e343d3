"""Pure verdict logic: facts from the probes plus configuration in, ``Verdict`` out."""
