"""The calendar (spec §7): what job_runs needs to know what is due, and alerts sent once.

- job_runs.org_id: the organization a run was limited to (NULL: every organization), moved out of
  stats into a real, indexed column; existing rows keep theirs.
- job_runs.request_id / request_kind: the request a run belonged to (one schedule tick, a
  backfill, a catch-up...), so that `opsmetrics runs` can show the dates of one request together.
- territory_metrics (metric_date): the weekly chain reads many Sundays' rows at once.
- hiring_alerts: one row per organization, Sunday and alert content, recorded in the weekly job's
  transaction and marked published after SNS accepted it.

Revision ID: o0002
"""

from alembic import op

revision = "o0002"
down_revision = "o0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE job_runs
            ADD COLUMN org_id uuid NULL,
            ADD COLUMN request_id uuid NULL,
            ADD COLUMN request_kind text NULL
                CHECK (request_kind IN ('single', 'backfill', 'schedule', 'catch-up'));
        UPDATE job_runs SET org_id = CAST(stats->>'org_id' AS uuid)
        WHERE stats ? 'org_id' AND stats->>'org_id' ~* '^[0-9a-f-]{36}$';
        -- What is due: succeeded runs of a job by date (spec §7).
        CREATE INDEX job_runs_succeeded_idx ON job_runs (job, target_date, org_id)
            WHERE status = 'succeeded';
        -- `opsmetrics runs`, newest first, and the sweep of abandoned `running` rows.
        CREATE INDEX job_runs_started_idx ON job_runs (started_at DESC);
        CREATE INDEX job_runs_running_idx ON job_runs (job, target_date) WHERE status = 'running';
        CREATE INDEX job_runs_org_idx ON job_runs (org_id, job, target_date)
            WHERE org_id IS NOT NULL;
        CREATE INDEX job_runs_request_idx ON job_runs (request_id) WHERE request_id IS NOT NULL;

        -- The weekly chain reads the rows of many Sundays at once (territory/streaks.py): rows of
        -- a date are written together, so an index on the date reads only those pages.
        CREATE INDEX territory_metrics_date_idx ON territory_metrics (metric_date);

        CREATE TABLE hiring_alerts (
            org_id uuid NOT NULL,
            week_ending date NOT NULL,
            content_hash text NOT NULL,
            run_id uuid NOT NULL,
            critical_triggers int NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            published_at timestamptz NULL,
            message_id text NULL,
            PRIMARY KEY (org_id, week_ending, content_hash)
        );
        CREATE INDEX hiring_alerts_unsent_idx ON hiring_alerts (week_ending)
            WHERE published_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE hiring_alerts;
        DROP INDEX territory_metrics_date_idx;
        DROP INDEX job_runs_succeeded_idx, job_runs_started_idx, job_runs_running_idx,
            job_runs_org_idx, job_runs_request_idx;
        ALTER TABLE job_runs DROP COLUMN org_id, DROP COLUMN request_id,
            DROP COLUMN request_kind;
        """
    )
