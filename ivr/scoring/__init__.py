"""Call scoring: scorecards (YAML) and the scores supervisors give calls."""
