"""Communication trends: the daily per-organization aggregation of Slack classifications."""
