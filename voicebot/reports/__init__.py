"""Reports for managers: calls, transfers, agents, inspection, the script funnel."""
