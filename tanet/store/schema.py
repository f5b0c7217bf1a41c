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

# The schema each number of migrations makes, as digests of schema_check.entries() of a fresh
# file (generated: python -m tanet.store.schema_check; tests/test_file_trust.py rebuilds and compares).
EXPECTED_SCHEMA = {
    1: "fe99e2a4e98dbb88dcc7f4f6aab2c60cb88364a142e83e15258bf517ee534da7",
    2: "0b4edd00fb7022ec697a85a729d7ed6bc555fcd44d6cdbd31962d33f46707511",
    3: "2ca73eba7e814427393eedd7f82439cd8259e1737e3dde911e87d4fe9df77a12",
    4: "765af74af7218c361eed6402f812c28406e742b8053482aede24e10c2743ead9",
    5: "b177fef8826200af46f7f4b2e1ff82aca4d8ae05ac9049845293c06ebf476151",
    6: "244ad45456757957e97c3561e220834649ba90a3223bf3f9a4aa33c5cf2ac45f",
    7: "028674881ba048d09cb1b16534093dd4e4f28dd1c3c31a9c9a6b6d79c9b16c9d",
    8: "c0db019640258fda4eb0c4bbfa78d498fb6e5b73e1402c2793ae97ec29b3563e",
    9: "42ef7de64bd19e17dbdc07829b14ab3bcb6a9085dbce3dd9ce019330e4915f15",
    10: "85f7d6fea93ff29fe4609fb1fce5038608bb6aeb2215b248d7775397e499bab0",
    11: "d390fcc264b3d69bbcd1db774615cea3153fc71e8147e1c0b16b0c8bb226c39c",
}
