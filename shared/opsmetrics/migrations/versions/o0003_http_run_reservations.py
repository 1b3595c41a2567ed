"""HTTP run reservations: the per-organization limit on runs started over HTTP (spec §8).

Each report refresh or POST /jobs/{job}/runs by an organization reserves a row here before it
runs, under a per-organization lock, so concurrent requests (threads of one server, or Lambda
containers) are counted exactly; rows older than an hour are deleted by the next reservation.

Revision ID: o0003
"""

from alembic import op

revision = "o0003"
down_revision = "o0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE http_run_reservations (
            org_id uuid NOT NULL,
            reserved_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE INDEX http_run_reservations_org_idx
            ON http_run_reservations (org_id, reserved_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE http_run_reservations")
