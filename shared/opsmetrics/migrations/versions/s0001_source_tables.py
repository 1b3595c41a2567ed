"""Source tables of the two products (spec §2), with the indexes the jobs read by.

Revision ID: s0001
"""

from alembic import op

revision = "s0001"
down_revision = None
branch_labels = ("source",)
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE organizations (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE medics (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            org_id uuid NOT NULL REFERENCES organizations(id),
            full_name text NOT NULL,
            active boolean NOT NULL DEFAULT true
        );
        CREATE TABLE territories (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            org_id uuid NOT NULL REFERENCES organizations(id),
            postcode_sector text NOT NULL,
            region text NOT NULL,
            primary_medic_id uuid NULL REFERENCES medics(id),
            secondary_medic_id uuid NULL REFERENCES medics(id),
            UNIQUE (org_id, postcode_sector)
        );
        CREATE TABLE bookings (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            org_id uuid NOT NULL REFERENCES organizations(id),
            site_postcode text NOT NULL,
            shift_date date NOT NULL,
            status text NOT NULL,
            medic_id uuid NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        -- The daily job reads a 7-day window of shift dates for every organization.
        CREATE INDEX bookings_org_shift_date_idx ON bookings (org_id, shift_date);
        CREATE INDEX bookings_shift_date_idx ON bookings (shift_date);
        CREATE TABLE topic_classifications (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id uuid NOT NULL REFERENCES organizations(id),
            channel_id text NULL,
            topic text NOT NULL,
            sentiment jsonb NULL,
            confidence double precision NULL,
            created_at timestamptz NOT NULL
        );
        -- The trend job reads one UTC day of rows for all organizations at once.
        CREATE INDEX topic_classifications_created_at_idx ON topic_classifications (created_at);
        CREATE TABLE escalation_alerts (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            organization_id uuid NOT NULL REFERENCES organizations(id),
            severity text NOT NULL,
            created_at timestamptz NOT NULL
        );
        CREATE INDEX escalation_alerts_created_at_idx ON escalation_alerts (created_at);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE escalation_alerts, topic_classifications, bookings, territories, medics,"
        " organizations"
    )
