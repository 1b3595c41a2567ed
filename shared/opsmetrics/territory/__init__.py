"""Medic-staffing territory metrics: the daily and weekly jobs, their pure rules and reports.

The rules (the one place to change a threshold or a condition):
- rules.py           thresholds, and every condition and severity built from them; rates,
                     utilization, the consecutive-week counters
- conditions.py      the vocabulary rules.py is written in: one definition, evaluated in Python
                     and rendered as SQL
Derived from them:
- triggers.py        pure: hiring triggers, messages, urgency, grouping by region
- gaps.py            pure: coverage gaps, low-volume notes, recommended actions, order
- summary.py         pure: the territory summary (and its totals in SQL)
- rules_sql.py       the rules in SQL, rendered from rules.py, for work done in the database
The jobs:
- postcodes.py       the one postcode-to-sector rule (SQL, in two composable halves)
- daily.py           daily-territory-metrics: runs daily_sql.py's statements for one date
- daily_sql.py       its SQL: grouped, packed status counts and the one INSERT ... SELECT
- batch.py           the same job for many dates in one pass; batch_sql.py its SQL
- weekly.py          weekly-hiring-triggers: the counters (streaks.py), then the triggers
- alerts.py          SNS messages for critical triggers, one per organization
The reports (opsmetrics.reports.computed chooses the date each shows):
- territories_report.py, triggers_report.py, gaps_report.py   one statement each
- report_reads.py    what the three read alike; figures.py reads rows as the rules' input
- limits.py          report sizes the HTTP help text names (imports nothing)
- cursor.py          the territories report's page cursor
"""
