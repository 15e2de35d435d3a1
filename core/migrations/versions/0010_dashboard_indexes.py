"""the dashboard's lists read from indexes in their order

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Upcoming deliveries (not finished, by due time) and recent ones (finished, by last change)
scanned every delivery of the last fourteen days and sorted them; (state, due_at, id) and
(state, updated_at, id) serve both lists and the counts beside them.
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_state_due_at", "deliveries", ["state", "due_at", "id"])
    op.create_index("ix_deliveries_state_updated_at", "deliveries", ["state", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_state_updated_at", table_name="deliveries")
    op.drop_index("ix_deliveries_state_due_at", table_name="deliveries")
