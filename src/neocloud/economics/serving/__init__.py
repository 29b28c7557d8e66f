"""The serving planner: a model's architecture, a GPU system's constants, a parallel
configuration and a workload -> predicted TTFT and TPOT -> tokens/s per GPU -> fleet
OTPM/ITPM -> sellable rate limits and five-hour token budgets."""
