"""Reports from the call events: the KPIs, their targets and the day's charts."""
