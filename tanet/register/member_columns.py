"""Which column of a sign-up sheet holds which member field, chosen so it can be said out
loud before anything is written: the respondent's own answers over a form's bookkeeping,
and the coordinator's `--column FIELD=HEADER` over any guess."""

from __future__ import annotations

import difflib
import shlex

from tanet.errors import TanetError
from tanet.output import render
from tanet.sheets.textfiles import squash

# Loose header names, squashed (lower case, letters and digits only).
HEADERS = {
    "name": ("name", "fullname", "membername", "yourname", "participantname", "displayname",
             "nameinfull", "firstandlastname", "yourfullname"),
    "first_name": ("firstname", "forename", "givenname"),
    "last_name": ("lastname", "surname", "familyname"),
    "email": ("email", "emailaddress", "email1", "workemail", "emailaddresswork", "mail", "youremail",
              "youremailaddress", "workemailaddress", "yourworkemail", "yourworkemailaddress"),
    "phone": ("phone", "telephone", "phonenumber", "mobile", "mobilenumber", "tel", "contactnumber"),
    "organisation": ("organisation", "organization", "org", "employer", "organisationemployer",
                     "organisationoremployer", "agency", "yourorganisation", "organisationname"),
    "service_area": ("servicearea", "area", "service", "areaofwork", "areaofpractice", "serviceareas"),
    "sector": ("sector",),
    "role": ("role", "rolelevel", "level", "joblevel", "seniority", "yourrole", "jobtitle", "yourjobtitle",
             "jobrole", "position", "post", "designation"),
    "ambassador": ("ambassador", "traumaambassador", "isambassador"),
    "joined_on": ("joinedon", "joined", "datejoined", "joindate", "dateofjoining", "startdate"),
    "left_on": ("lefton", "left", "dateleft", "leavedate"),
    "consent_on": ("consenton", "consent", "consentdate", "dateofconsent", "consentgiven"),
    "notes": ("notes", "note", "comments"),
    "known_as": ("knownas", "preferredname", "preferredfirstname", "nickname", "greetas"),
}
FIELDS = tuple(HEADERS)
_LOOKUP = {alias: key for key, aliases in HEADERS.items() for alias in aliases}
# Fallbacks when a header is wordier than any alias ("Organisation / employer (optional)").
# A question naming the organisation ("Which sector is your organisation in?") asks about the
# sector or the role first: those words are looked for before "organisation".
_CONTAINS = (("email", "email"), ("mail", "email"), ("phone", "phone"), ("mobile", "phone"),
             ("servicearea", "service_area"), ("sector", "sector"), ("jobtitle", "role"), ("role", "role"),
             ("position", "role"), ("organi", "organisation"), ("employer", "organisation"), ("consent", "consent_on"),
             ("joined", "joined_on"), ("ambassador", "ambassador"), ("surname", "last_name"),
             ("firstname", "first_name"), ("name", "name"))
# Microsoft Forms' own columns: when and by whom the form was filled in, not the answers.
FORMS_BOOKKEEPING = {"id", "starttime", "completiontime", "lastmodifiedtime"}
# Forms' `Email` and `Name` hold "anonymous" and nothing unless the form asked people to sign in.
FORMS_WHO = {"email", "name"}


EMPTY_AMBASSADOR = False  # an imported member is an ambassador only when a column says yes


def is_forms_export(header: list[str]) -> bool:
    names = {squash(h) for h in header}
    return {"starttime", "completiontime"} <= names


def forms_bookkeeping(header: list[str]) -> set[int]:
    """The columns a Forms export adds of its own (never a member field or a question)."""
    if not is_forms_export(header):
        return set()
    return {i for i, h in enumerate(header) if squash(h) in FORMS_BOOKKEEPING}


def field_named(word: str) -> str:
    """`area`, `service_area` and `Service area` all name the field service_area."""
    key = squash(word)
    for field in FIELDS:
        if key == squash(field) or key == squash(field.removesuffix("_on")):
            return field
    if key in _LOOKUP:
        return _LOOKUP[key]
    raise TanetError(f"'{word}' is not a member field tanet imports. Use one of: {', '.join(FIELDS)} "
                     "(e.g. --column role='Job title').")


def column_named(header: list[str], text: str, path) -> int:
    """The column headed `text` (exactly, or ignoring case, spaces and punctuation)."""
    for i, h in enumerate(header):
        if h.strip() == text.strip():
            return i
    for i, h in enumerate(header):
        if squash(h) and squash(h) == squash(text):
            return i
    raise TanetError(f"{path} has no column headed '{text}'. Its columns are: "
                     + ", ".join(f"'{h.strip()}'" for h in header if h.strip()) + ".")


def _guess_rank(header: list[str], i: int, forms: bool) -> tuple[str, int] | None:
    """The field column i looks like, and how sure: 0 its own name, 1 a word in it,
    +2 for Forms' sign-in columns (used only when the form has no answer for it)."""
    s = squash(header[i])
    if not s or (forms and s in FORMS_BOOKKEEPING):
        return None
    key, rank = _LOOKUP.get(s), 0
    if key is None:
        key, rank = next((k for part, k in _CONTAINS if part in s), None), 1
    if key is None:
        return None
    return key, rank + (2 if forms and s in FORMS_WHO else 0)


def parse_choices(header: list[str], choices: list[str], path) -> dict[str, int]:
    """`--column FIELD=HEADER` options checked against the file."""
    chosen: dict[str, int] = {}
    for item in choices:
        word, eq, text = item.partition("=")
        if not eq or not word.strip() or not text.strip():
            raise TanetError(f"'{item}' is not a column choice; write it as FIELD=HEADER, e.g. "
                             "--column role='Job title'.")
        field = field_named(word)
        chosen[field] = column_named(header, text, path)
    return chosen


def pick(header: list[str], choices: list[str], path) -> dict[str, int]:
    """Field -> column index: the coordinator's choices, then the best guess for the rest."""
    chosen = parse_choices(header, choices, path)
    taken = set(chosen.values())
    forms = is_forms_export(header)
    best: dict[str, tuple[int, int]] = {}
    for i in range(len(header)):
        guess = None if i in taken else _guess_rank(header, i, forms)
        if guess and guess[0] not in chosen:
            key, rank = guess
            if key not in best or rank < best[key][0]:
                best[key] = (rank, i)
    found = {**{k: i for k, (_, i) in best.items()}, **chosen}
    if ("name" not in chosen and best.get("name", (0,))[0] >= 2 and "first_name" in found
            and "last_name" in found):
        del found["name"]  # Forms' sign-in Name, when the form asked for first and last names
    return found


def unused(header: list[str], found: dict[str, int]) -> list[str]:
    used = set(found.values())
    return [h.strip() for i, h in enumerate(header) if i not in used and h.strip()]


def understood_lines(header: list[str], found: dict[str, int]) -> list[str]:
    """What the import will read, one field a line, then the columns it leaves alone."""
    width = max(len(f) for f in FIELDS)
    lines = [f"  {f.ljust(width)}  <- '{header[i].strip()}'" for f, i in sorted(found.items(), key=lambda x: x[1])]
    left = unused(header, found)
    if left:
        lines.append("  not used: " + ", ".join(f"'{h}'" for h in left))
    lines.append("  (choose another column with --column FIELD=HEADER)")
    return lines


def really_close(value: str, choices: list[str]) -> str | None:
    """A choice the value is a slip of the keyboard away from ('housng' -> housing), else
    nothing: 'OT' is not 'other', and 'Senior Social Worker' is not 'senior-leader'."""
    key = squash(value)
    if len(key) < 4:
        return None
    scored = [(difflib.SequenceMatcher(None, key, squash(c)).ratio(), c) for c in choices]
    score, choice = max(scored, default=(0.0, None))
    return choice if score >= 0.85 else None


def next_command(path, update: bool, columns: list[str], maps: list[str]) -> str:
    """The command to run next, with every option it needs, ready to paste."""
    words = ["tanet", "member", "import", str(path)] + (["--update"] if update else [])
    for c in columns:
        words += ["--column", c]
    return " ".join([shlex.quote(w) for w in words] + [f"--map {quote_map(m)}" for m in maps])


def quote_map(option: str) -> str:
    """`role:'Senior Social Worker'=ROLE`: ready for the shell, and still easy to read."""
    kind, _, rest = option.partition(":")
    word, _, value = rest.partition("=")
    return f"{shlex.quote(kind)}:{shlex.quote(word)}={shlex.quote(value)}"


# What an import found, in words ------------------------------------------------

_NO_COLUMN = {"joined_on": "{n} new members joined today ({today})",
              "consent_on": "{n} new members agreed to their details being held on the day they joined",
              "ambassador": "{n} new members are {not_}marked as ambassadors",
              "other": "{n} new members set to 'other'"}
_EMPTY = {"joined_on": "{n} empty, set to today ({today})", "consent_on": "{n} empty, set to the joining date",
          "ambassador": "{n} empty, taken as {yes}", "other": "{n} empty, set to 'other'"}


def default_lines(plan, today) -> list[str]:
    """The values tanet filled in, field by field, and how many."""
    ambassador = EMPTY_AMBASSADOR  # what an empty cell means
    lines = []
    for field in ("joined_on", "consent_on", "service_area", "sector", "role", "ambassador"):
        n = plan.defaults.get(field, 0)
        if not n:
            continue
        if field in plan.columns:
            words, hint = _EMPTY.get(field, _EMPTY["other"]), ""
        else:
            words = "no column: " + _NO_COLUMN.get(field, _NO_COLUMN["other"])
            hint = f" (to read one: --column {field}=HEADER)"
            if field == "joined_on" and is_forms_export(plan.header):
                hint = " (to use the day they filled in the form: --column joined_on='Completion time')"
        said = words.format(n=n, today=today.isoformat(), not_="" if ambassador else "not ",
                            yes="yes" if ambassador else "no")
        lines.append(f"  {field}: {said}{hint}")
    return lines


def problem_groups(plan, conn) -> tuple[list[str], list[str]]:
    """One line per word tanet did not know (however many rows it is on), and the
    --map option that fixes all of them: its meaning filled in only when the word is
    a slip of the keyboard away from a real one, else ROLE, SECTOR or AREA for the
    coordinator to fill in."""
    from tanet.register import vocabulary

    choices = {"area": vocabulary.area_names(conn), "sector": list(vocabulary.SECTORS), "role": list(vocabulary.ROLES)}
    what = {"area": "service area", "sector": "sector", "role": "role"}
    lines, maps = [], []
    groups = sorted(plan.unknown.items(), key=lambda g: (-g[1][1], g[0]))
    for (kind, _), (value, rows, first) in groups:
        where = (f"line {first[0]}: '{value}'" if rows == 1 else
                 f"'{value}' in {rows} rows (lines " + ", ".join(map(str, first)) + (", …" if rows > len(first) else "") + ")")
        if kind == "email":
            lines.append(f"{where} is the e-mail column: the form did not record who filled it in. Choose the column "
                         f"that holds their e-mail address with --column email=HEADER, or add that question to the form.")
            continue
        guess = really_close(value, choices[kind])
        option = f"{kind}:{value}={guess or kind.upper()}"
        maps.append(option)
        lines.append(f"{where} is not a {what[kind]} tanet knows" + (f"; did you mean '{guess}'?" if guess else ".")
                     + f" Fix {'them all' if rows > 1 else 'it'} with: --map {quote_map(option)}")
    kinds = {k for k, _ in plan.unknown}
    if any(m.endswith(("=AREA", "=SECTOR", "=ROLE")) for m in maps):
        lines.append("Replace each ROLE, SECTOR or AREA with what the word means: " + "; ".join(
            f"{k}: " + (", ".join(choices[k]) if k != "area" else "one of tanet area list (add a new one first with "
                        "tanet area add NAME; each --map is saved for next time, as tanet area alias does)")
            for k in ("role", "sector", "area") if k in kinds) + ".")
    return lines, maps


SHOWN_SKIPS = 5


def say_columns(path, plan) -> None:
    """Which column gives which field, said before any row is read, let alone written."""
    render.say(f"Reading {path}:")
    for line in understood_lines(plan.header, plan.columns):
        render.say(line)


def report(conn, path, plan, today, *, dry_run: bool, update: bool, columns: list[str], maps: list[str]) -> None:
    """What the import did or would do; with problems, each once, the command to run next,
    and an error (the caller has rolled everything back)."""
    filled = default_lines(plan, today)
    if filled:
        render.say("Filled in:")
        for line in filled:
            render.say(line)
    if plan.error_count:
        for e in plan.errors:
            render.note(e)
        grouped, needed = problem_groups(plan, conn)
        for line in grouped:
            render.note(line)
        if needed:
            render.note("Then run:\n  " + next_command(path, update, columns, maps + needed))
        shown = len(plan.errors) + sum(g[1] for g in plan.unknown.values())
        listed = " (listed above)" if plan.error_count <= shown else " (the first are listed above)"
        raise TanetError(f"{path}: {render.count(plan.error_count, 'problem')}{listed}; nothing was imported. "
                         + ("Add the --map options above (and fix any lines listed) and run the import again."
                            if needed else "Fix what is listed above and run the import again."))
    for line, email, who in plan.skipped[:SHOWN_SKIPS]:
        render.note(f"line {line}: {email} is already member {who}; skipped (use --update to update).")
    if plan.skipped_count > SHOWN_SKIPS:
        render.note(f"... and {plan.skipped_count - SHOWN_SKIPS} more already in the register; skipped.")
    summary = f"{plan.new_count} new, {plan.update_count} updated, {plan.skipped_count} skipped"
    if dry_run:
        render.say(f"Dry run: {summary}. Nothing was saved. To import, run:")
        render.say("  " + next_command(path, update, columns, maps))
        return
    render.say(f"Imported {path}: {summary}.")
    if plan.defaulted:
        render.say("Complete the values set to 'other' with: tanet member edit")
