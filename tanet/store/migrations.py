"""Ordered, recorded schema changes (sqlite_utils.migrations).

Each migration and its record are applied in one transaction, so an
older file is upgraded in place and never loses rows. Never edit a
migration that has shipped: add a new one and its name to `schema.py`.
"""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from tanet.store.schema import MIGRATION_SET, MIGRATIONS

migrations = Migrations(MIGRATION_SET)

SERVICE_AREAS = (
    "housing", "early years", "mental health", "CAMHS", "social work",
    "occupational therapy", "psychology", "justice", "residential services",
    "education", "health", "other",
)


@migrations(name=MIGRATIONS[0])
def members_and_meetings(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE service_areas (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE
        );
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT UNIQUE COLLATE NOCASE,
            phone TEXT,
            organisation TEXT,
            service_area TEXT NOT NULL
                REFERENCES service_areas(name) ON UPDATE CASCADE,
            sector TEXT NOT NULL
                CHECK (sector IN ('public', 'third', 'private', 'other')),
            role TEXT NOT NULL CHECK (role IN
                ('frontline', 'supervisor', 'manager', 'senior-leader', 'other')),
            ambassador INTEGER NOT NULL DEFAULT 1,
            joined_on TEXT NOT NULL,
            left_on TEXT,
            consent_on TEXT,
            notes TEXT,
            forgotten_on TEXT
        );
        CREATE INDEX members_service_area ON members(service_area);
        CREATE TABLE meetings (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            date TEXT NOT NULL,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            location TEXT,
            url TEXT,
            status TEXT NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'cancelled')),
            sequence INTEGER NOT NULL DEFAULT 0,
            cancel_reason TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX meetings_date ON meetings(date);
        CREATE TABLE facilitators (
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            member_id INTEGER NOT NULL REFERENCES members(id),
            PRIMARY KEY (meeting_id, member_id)
        );
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            kind TEXT NOT NULL
                CHECK (kind IN ('spotlight', 'reflective', 'training', 'guest')),
            title TEXT NOT NULL,
            presenter_id INTEGER REFERENCES members(id),
            guest TEXT,
            guest_org TEXT
        );
        CREATE TABLE themes (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('pain-point', 'solution', 'policy')),
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'raised', 'resolved')),
            meeting_id INTEGER REFERENCES meetings(id),
            note TEXT,
            created_on TEXT NOT NULL,
            raised_on TEXT,
            resolved_on TEXT
        );
        CREATE TABLE attendance (
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            member_id INTEGER NOT NULL REFERENCES members(id),
            status TEXT NOT NULL
                CHECK (status IN ('present', 'apologies', 'absent')),
            source TEXT,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (meeting_id, member_id)
        );
        CREATE INDEX attendance_member ON attendance(member_id);
        CREATE TABLE checkins (
            id INTEGER PRIMARY KEY,
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            member_id INTEGER NOT NULL REFERENCES members(id),
            note TEXT,
            recorded_at TEXT NOT NULL,
            UNIQUE (meeting_id, member_id)
        );
        CREATE TABLE followups (
            id INTEGER PRIMARY KEY,
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            member_id INTEGER NOT NULL REFERENCES members(id),
            raised_on TEXT NOT NULL,
            closed_on TEXT,
            note TEXT
        );
        """
    )
    db.conn.executemany(
        "INSERT INTO service_areas(name) VALUES (?)", [(a,) for a in SERVICE_AREAS]
    )


@migrations(name=MIGRATIONS[1])
def resources(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE resources (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            kind TEXT,
            description TEXT,
            meeting_id INTEGER REFERENCES meetings(id),
            created_on TEXT NOT NULL
        );
        CREATE TABLE resource_authors (
            resource_id INTEGER NOT NULL REFERENCES resources(id),
            member_id INTEGER NOT NULL REFERENCES members(id),
            PRIMARY KEY (resource_id, member_id)
        );
        CREATE TABLE adoptions (
            id INTEGER PRIMARY KEY,
            resource_id INTEGER NOT NULL REFERENCES resources(id),
            organisation TEXT NOT NULL COLLATE NOCASE,
            adopted_on TEXT NOT NULL,
            UNIQUE (resource_id, organisation)
        );
        """
    )


@migrations(name=MIGRATIONS[2])
def availability(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE availability (
            id INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL REFERENCES members(id),
            weekdays TEXT NOT NULL,
            start TEXT NOT NULL,
            "end" TEXT NOT NULL,
            pattern TEXT NOT NULL
        );
        CREATE INDEX availability_member ON availability(member_id);
        """
    )


@migrations(name=MIGRATIONS[3])
def outbox(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE members ADD COLUMN known_as TEXT;
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            meeting_id INTEGER REFERENCES meetings(id),
            member_id INTEGER REFERENCES members(id),
            email TEXT,
            kind TEXT NOT NULL,
            method TEXT,
            sequence INTEGER,
            message_id TEXT NOT NULL,
            file TEXT,
            written_at TEXT NOT NULL,
            sent_at TEXT,
            error TEXT,
            snapshot TEXT
        );
        CREATE INDEX outbox_meeting ON outbox(meeting_id, member_id);
        UPDATE settings SET key = 'smtp.security',
               value = CASE value WHEN 'false' THEN 'none' ELSE 'starttls' END
         WHERE key = 'smtp.starttls';
        """
    )


@migrations(name=MIGRATIONS[4])
def replies(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE responses (
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            member_id INTEGER NOT NULL REFERENCES members(id),
            response TEXT NOT NULL,
            responded_at TEXT,
            sequence INTEGER NOT NULL DEFAULT 0,
            comment TEXT,
            message_id TEXT,
            PRIMARY KEY (meeting_id, member_id)
        );
        CREATE TABLE replies_read (
            message_id TEXT PRIMARY KEY,
            read_on TEXT NOT NULL
        );
        """
    )


@migrations(name=MIGRATIONS[5])
def outreach(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE outreach (
            id INTEGER PRIMARY KEY,
            organisation TEXT NOT NULL,
            service_area TEXT NOT NULL REFERENCES service_areas(name) ON UPDATE CASCADE,
            contact TEXT,
            "on" TEXT NOT NULL,
            how TEXT NOT NULL,
            outcome TEXT
        );
        CREATE INDEX outreach_area ON outreach(service_area, "on");
        """
    )


@migrations(name=MIGRATIONS[6])
def aliases_and_followups(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE aliases (
            kind TEXT NOT NULL,
            alias TEXT NOT NULL COLLATE NOCASE,
            value TEXT NOT NULL,
            PRIMARY KEY (kind, alias)
        );
        """
    )
    db["followups"].transform(not_null={"meeting_id": False})
    db["followups"].add_column("about", str)
    db["followups"].add_column("owner_id", int, fk="members", fk_col="id")
    db["followups"].add_column("due_on", str)
    # Words sign-up sheets use for the managed values, so a first import just works.
    seeds = [("area", a, "education") for a in ("school", "schools", "teaching", "teacher", "teachers",
                                                 "primary school", "secondary school", "high school")]
    seeds += [("area", a, "early years") for a in ("nursery", "childcare", "early learning and childcare")]
    seeds += [("area", a, "justice") for a in ("police", "criminal justice", "youth justice", "prison")]
    seeds += [("role", a, "frontline") for a in ("teacher", "class teacher", "social worker", "nurse",
                                                  "youth worker", "support worker", "key worker", "officer")]
    seeds += [("role", a, "senior-leader") for a in ("head teacher", "headteacher", "head", "principal",
                                                      "chief executive", "ceo")]
    seeds += [("role", a, "manager") for a in ("depute head", "deputy head", "deputy head teacher",
                                                "team manager", "service manager")]
    db.conn.executemany("INSERT OR IGNORE INTO aliases(kind, alias, value) VALUES (?, ?, ?)", seeds)


@migrations(name=MIGRATIONS[7])
def report_notes(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE report_notes (
            label TEXT PRIMARY KEY,
            text TEXT NOT NULL
        );
        """
    )


@migrations(name=MIGRATIONS[8])
def feedback(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            response_key TEXT NOT NULL,
            member_id INTEGER REFERENCES members(id),
            anonymous INTEGER NOT NULL,
            usefulness INTEGER,
            will_use TEXT,
            take_back TEXT,
            next_topic TEXT,
            service_area TEXT,
            submitted_at TEXT,
            UNIQUE (meeting_id, response_key)
        );
        CREATE TABLE feedback_files (
            digest TEXT NOT NULL,
            meeting_id INTEGER NOT NULL REFERENCES meetings(id),
            imported_on TEXT NOT NULL,
            PRIMARY KEY (digest, meeting_id)
        );
        """
    )


@migrations(name=MIGRATIONS[9])
def summary_indexes(db: Database) -> None:
    """Indexes the summary reads instead of the tables, so a ten-year summary of a large
    network is a few index scans: attendance by meeting and status (counts and who came,
    index only), present attendance in member order (one pass per period, each member's
    look back), members by group, by joining date and by leaving date (the breakdowns, and
    memberships counted from the few who joined later or left)."""
    db.executescript(
        """
        CREATE INDEX attendance_meeting_status ON attendance(meeting_id, status, member_id);
        CREATE INDEX attendance_present ON attendance(member_id, meeting_id) WHERE status = 'present';
        CREATE INDEX members_groups ON members(service_area, sector, role, joined_on, left_on);
        DROP INDEX members_service_area;
        CREATE INDEX members_joined ON members(joined_on, left_on);
        CREATE INDEX members_left ON members(left_on, joined_on);
        """
    )


@migrations(name=MIGRATIONS[10])
def outbox_uncertain(db: Database) -> None:
    """When a message's content began to go to the mail server: set before the content is
    sent, so a row with it and no `sent_at` may have arrived (the line dropped, or tanet was
    killed, before the answer came) and is never sent again by itself."""
    db.executescript("ALTER TABLE outbox ADD COLUMN attempted_at TEXT;")


def apply(conn) -> None:
    """Apply every pending migration on an open connection (already locked)."""
    migrations.apply(Database(conn, execute_plugins=False))
