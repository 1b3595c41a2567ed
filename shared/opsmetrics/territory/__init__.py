"""Medic-staffing territory metrics: the daily and weekly jobs, their pure rules and reports.

- postcodes.py     the one postcode-to-sector rule (SQL, in two composable halves)
- daily.py         daily-territory-metrics: one set-based INSERT ... ON CONFLICT per date
- weekly.py        weekly-hiring-triggers: consecutive-week counters, then the triggers
- rules.py         pure: thresholds, rates, utilization, the territory summary
- triggers.py      pure: hiring triggers, severities, messages, grouping by region
- gaps.py          pure: coverage gaps, low-volume notes, recommended actions, order
- rules_sql.py     SQL twins of those rules (tested to agree) for work done in the database
- figures.py       reads one date's territory rows into the rules' input type
- alerts.py        SNS messages for critical triggers, one per organization
- reports.py       the territories, hiring-triggers and coverage-gaps reports; the date each
                   shows is chosen by opsmetrics.reports.computed
- cursor.py        the territories report's page cursor
"""
