"""Names of the schema migrations, in order.

Kept apart from `migrations.py` so that opening an up-to-date file never
imports sqlite_utils: `db.open_db` compares these names with the ones
recorded in the file and only loads the migrations when one is pending.
"""

MIGRATION_SET = "tanet"
MIGRATIONS = (
    "0001_members_and_meetings",
    "0002_resources",
    "0003_availability",
    "0004_outbox",
    "0005_replies",
    "0006_outreach",
    "0007_aliases_and_followups",
    "0008_report_notes",
    "0009_feedback",
    "0010_summary_indexes",
    "0011_outbox_uncertain",
)
SCHEMA_VERSION = len(MIGRATIONS)
