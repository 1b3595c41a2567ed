"""Reports: read the output tables, apply the pure rules, render as JSON, CSV or a table."""
