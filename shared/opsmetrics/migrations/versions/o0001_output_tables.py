"""The project's own tables (spec §2): metrics, trends and the job ledger.

Revision ID: o0001
"""

from alembic import op

revision = "o0001"
down_revision = None
branch_labels = ("outputs",)
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE territory_metrics (
            territory_id uuid NOT NULL REFERENCES territories(id),
            org_id uuid NOT NULL,
            postcode_sector text NOT NULL,
            metric_date date NOT NULL,
            total_bookings int NOT NULL,
            confirmed_bookings int NOT NULL,
            rejected_bookings int NOT NULL,
            rejection_rate numeric(5,2) NULL,
            fulfillment_rate numeric(5,2) NULL,
            primary_medic_utilization numeric(5,2) NOT NULL,
            hiring_trigger_weeks int NOT NULL DEFAULT 0,
            coverage_gap_weeks int NOT NULL DEFAULT 0,
            computed_at timestamptz NOT NULL,
            PRIMARY KEY (territory_id, metric_date)
        );
        -- Reports read one organization's rows for one date.
        CREATE INDEX territory_metrics_org_date_idx ON territory_metrics (org_id, metric_date);
        CREATE TABLE communication_trends (
            organization_id uuid NOT NULL REFERENCES organizations(id),
            trend_date date NOT NULL,
            trend_period text NOT NULL,
            topic_distribution jsonb NOT NULL,
            sentiment_distribution jsonb NOT NULL,
            escalation_counts jsonb NOT NULL,
            channel_hotspots jsonb NOT NULL,
            total_classifications int NOT NULL,
            avg_confidence double precision NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (organization_id, trend_date, trend_period)
        );
        CREATE TABLE job_runs (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            job text NOT NULL,
            target_date date NOT NULL,
            trigger text NOT NULL
                CHECK (trigger IN ('schedule', 'manual', 'http', 'backfill')),
            status text NOT NULL
                CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
            started_at timestamptz NOT NULL,
            finished_at timestamptz NULL,
            stats jsonb NOT NULL DEFAULT '{}',
            error text NULL
        );
        CREATE INDEX job_runs_job_date_idx ON job_runs (job, target_date, started_at DESC);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE job_runs, communication_trends, territory_metrics")
