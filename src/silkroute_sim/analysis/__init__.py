"""Records to tables and KPIs, statistics, warm-up, queueing formulas."""
