"""Settings and the safety of the file: init, config, info, backup, check, demo."""


from pathlib import Path
from typing import Annotated, Optional

import typer

from tanet.cli.common import TreeFormatOpt, connection, db_path, new_app, today
from tanet.output import render
from tanet.store.db import transaction

config_app = new_app("Show and change the network's settings.", name="config")
init_app = new_app("Create the database (or update its settings).", name="init")
info_app = new_app("Where the database is and what it holds.", name="info")
backup_app = new_app("Make a consistent copy of the database.", name="backup")
check_app = new_app("Check the database's integrity.", name="check")
restore_app = new_app("Put a backup back in place of the database.", name="restore")
demo_app = new_app("Build a fictional network to explore.", name="demo")


@init_app.command("init")
def init(
    network: Annotated[Optional[str], typer.Option(help="The network's name.")] = None,
    organiser_name: Annotated[Optional[str], typer.Option(help="Who sends the invitations.")] = None,
    organiser_email: Annotated[Optional[str], typer.Option(help="The organiser's e-mail address.")] = None,
    timezone: Annotated[Optional[str], typer.Option(help="Time zone, e.g. Europe/London.")] = None,
) -> None:
    """Create the database (or update its settings); safe to run again."""
    from tanet.store import settings

    conn = connection(create=True)
    given = {"network": network, "organiser.name": organiser_name,
             "organiser.email": organiser_email, "timezone": timezone}
    with transaction(conn):
        for key, value in given.items():
            if value is not None:
                settings.set_value(conn, key, value)
    values = settings.get_all(conn)
    render.say(f"tanet is ready: {db_path()}")
    render.say(f"Network: {values['network']}; time zone {values['timezone']}.")
    if not values["organiser.email"]:
        render.say("Next: tanet init --organiser-name 'Your Name' --organiser-email you@example.org")
    else:
        render.say("Next: tanet member import signups.csv   or   tanet member add NAME --email ...")


@config_app.command("show")
def config_show(fmt: TreeFormatOpt = "table") -> None:
    """Every setting and its value."""
    from tanet.store import settings

    values = settings.get_all(connection())
    if fmt == "json":
        render.print_json(values)
        return
    render.emit([{"key": k, "value": v, "about": settings.SETTINGS[k].help} for k, v in values.items()],
                "table", [("key", "Setting"), ("value", "Value"), ("about", "What it is")])


@config_app.command("get")
def config_get(key: Annotated[str, typer.Argument(metavar="KEY", help="A setting, e.g. timezone.")]) -> None:
    """Print one setting's value."""
    from tanet.store import settings

    render.say(settings.get(connection(), key))


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(metavar="KEY", help="A setting, e.g. meeting.duration.")],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="Its new value.")],
) -> None:
    """Change one setting (checked before it is saved)."""
    from tanet.store import settings

    conn = connection()
    with transaction(conn):
        clean = settings.set_value(conn, key, value)
    if key.strip().lower().startswith("smtp."):  # typed here: these mail settings are the coordinator's own
        from tanet.mail import trust as mailtrust

        mailtrust.trust(settings.get_all(conn))
    render.say(f"{key} = {clean}")


@info_app.command("info")
def info(fmt: TreeFormatOpt = "table") -> None:
    """Where the database is, its schema version and what it holds."""
    from tanet.register import membership
    from tanet.store import db as dbmod
    from tanet.store.schema import SCHEMA_VERSION

    conn = connection()
    counts = dbmod.count_rows(conn, ("members", "meetings", "attendance", "checkins", "followups", "sessions",
                                     "themes", "resources", "adoptions", "availability"))
    counts["active_members"] = membership.count_active(conn, today())
    data = {"path": str(db_path()), "schema_version": dbmod.schema_version(conn),
            "schema_version_expected": SCHEMA_VERSION, "counts": counts}
    if fmt == "json":
        render.print_json(data)
        return
    # Plain lines: the path must never be folded, so it can be copied.
    render.say(f"Database: {data['path']}")
    render.say(f"Schema version: {data['schema_version']}")
    for k, v in counts.items():
        render.say(f"{k.replace('_', ' ').capitalize()}: {v}")


@backup_app.command("backup")
def backup(dest: Annotated[Optional[Path], typer.Argument(metavar="DEST", help=(
        "Where to write the copy (default: beside the database, with a timestamp)."
    ))] = None) -> None:
    """Make a consistent copy of the database, even while it is in use."""
    from tanet.store.safety import backup as do_backup

    path = do_backup(connection(), db_path(), dest)
    render.say(f"Backed up to {path}")


@check_app.command("check")
def check(fmt: TreeFormatOpt = "table") -> None:
    """Check the file's integrity, its links between tables, and that its schema is tanet's own
    (reads only, even a damaged file)."""
    from tanet.errors import TanetError
    from tanet.store.safety import check_file

    path = db_path()
    if not path.is_file():
        raise TanetError(f"There is no tanet database at {path}. Create one with: tanet init "
                         "(or check the path given with --db or TANET_DB).")
    found = check_file(path)
    problems, foreign = found["problems"], found["foreign"]
    if fmt == "json":
        render.print_json({"ok": not problems and not foreign, "problems": problems, "foreign": foreign})
    elif problems:
        for p in problems[:20]:
            render.note(p)
        render.note(f"{path} is damaged. Put back your latest backup with: tanet restore BACKUP --yes")
    elif foreign:
        for item in foreign[:20]:
            render.note(f"Not made by tanet: {item}")
        render.note(f"{path} was changed outside tanet (integrity ok, but it holds what tanet never makes, which "
                    "could act behind your back). Put back a backup you made yourself: tanet restore BACKUP --yes")
    elif found["newer"]:  # its schema is not one this version can vouch for
        render.say(f"{path}: integrity ok, foreign keys ok; made by a newer tanet (it has the change "
                   f"'{found['newer'][-1]}'), so this version could not check its schema and opens it for "
                   "reading only. Check it with the newer tanet.")
    else:
        render.say(f"{path}: integrity ok, foreign keys ok, schema is tanet's own.")
    if problems or foreign:
        raise typer.Exit(1)


@restore_app.command("restore")
def restore(
    source: Annotated[Path, typer.Argument(metavar="BACKUP", help="The backup file to put back.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: replace the database with the backup.")] = False,
    keep_mail_settings: Annotated[bool, typer.Option(
        "--keep-mail-settings", help="Use the backup's mail settings (smtp.*, organiser e-mail) too; "
        "without it the current ones stay.")] = False,
) -> None:
    """Put a backup back in place of the database (the current contents are copied aside first)."""
    from tanet.errors import TanetError
    from tanet.privacy import forget
    from tanet.store.safety import restore as do_restore

    if not yes:
        raise TanetError(f"This replaces {db_path()} with {source}. Run again with --yes to do it "
                         "(the current file is copied aside first).")
    done = do_restore(db_path(), source, forget=forget, keep_mail_settings=keep_mail_settings)
    if keep_mail_settings:  # asked for by name: the backup's mail settings are now the coordinator's own
        from tanet.mail import trust as mailtrust
        from tanet.store import settings

        mailtrust.trust(settings.get_all(connection()))
    if done["aside"]:
        render.say(f"The current database was copied aside to {done['aside']}.")
    render.say(f"Restored {source} to {db_path()}.")
    if done["forgotten"]:
        render.say(f"{render.count(done['forgotten'], 'member')} forgotten since the backup was made "
                   f"{'was' if done['forgotten'] == 1 else 'were'} forgotten again: erasure is for good.")
    if done["sent_kept"]:
        render.say(f"{render.count(done['sent_kept'], 'message')} sent since the backup was made "
                   "stay recorded as sent, so they do not go twice.")
    if not done["erased"]:
        render.note("Another program has the database open, so old copies of the erased details are still in "
                    "the file. Close it, then run: tanet privacy review --apply")
    if done["mail"] and done["kept"] == "current":
        render.say("The backup's mail settings differ and were NOT used; the current ones stay:")
        for key, then, now in done["mail"]:
            render.say(f"  {key}: backup {then or '(empty)'!r}, kept {now or '(empty)'!r}")
        render.say(f"If you trust the backup's, run: tanet restore {source} --yes --keep-mail-settings")
    elif done["mail"]:
        render.say("Mail settings are now the backup's: "
                   + ", ".join(f"{key} {then or '(empty)'!r}" for key, then, _ in done["mail"]) + ".")


@demo_app.command("demo")
def demo(
    db: Annotated[Optional[Path], typer.Option("--db", metavar="PATH", help=(
            "A new file to build the demo in (default: a temporary file)."
        ))] = None,
    members: Annotated[int, typer.Option(min=10, max=200000, help="How many members.")] = 140,
    years: Annotated[int, typer.Option(min=1, max=30, help="Years of meetings.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same network.")] = 7,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Build only; print the path.")] = False,
) -> None:
    """Build a realistic, fictional network in a new file and show it."""
    from tanet.demo.build import run_demo

    run_demo(db, members=members, years=years, seed=seed, today=today(), quiet=quiet)
