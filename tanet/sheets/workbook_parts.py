"""The zip-level checks of an .xlsx (workbook_check): which parts it holds, what they are
called and how large they unpack.

The reader finds a part by its name ignoring case and taking '\\' for '/'
(xl/SharedStrings.xml is its xl/sharedStrings.xml), so every name is compared that way
here too (`part_key`), and a workbook holding two parts of the same name so is refused: the
one weighed might not be the one read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from tanet.errors import TanetError

MAX_ROWS = 100_001  # a header and 100,000 rows
MAX_COLUMNS = 200
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200  # spreadsheets pack 5 to 50 times; a bomb about 1000 times
MAX_PARTS = 10_000
CHUNK = 1024 * 1024
MAX_LIST = 8 * CHUNK  # a part's list of relationships: Excel's are a few KB
SHARED_STRINGS = "xl/sharedstrings.xml"  # as part_key gives it
# Any XML name's prefix (x:, a-b:, a.b:), as the reader takes any before a tag's local name.
PREFIX = rb"""(?:[^\s<>/:!?"'=]+:)?"""
QUOTED = re.compile(rb"""\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# A tag's inside, its quoted values read whole (a value may hold '>'; none holds '<').
TAG_BODY = rb"""[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*"""
_IN_TAG = re.compile(rb"<" + TAG_BODY + rb">")
_ODD_ATTRIBUTE = re.compile(rb"""<[^<>"']*(?:"[^"]*"[^<>"']*)*(?:'|=\s|\s=)""")  # a ' or a spaced = in a tag
_RELATION = re.compile(rb"<" + PREFIX + rb"Relationship\s" + TAG_BODY + rb">")
_SPACES = bytes.maketrans(b"\t\r\n\x0b\x0c", b"     ")


def part_key(name: str) -> str:
    """A part's name as the reader compares it: in small letters, with '/' for '\\'."""
    return name.replace("\\", "/").lower()


def double_quoted(m: re.Match) -> bytes:
    """An attribute's value written ="value"; a " inside a value once in single quotes is
    written &quot;, so no value can pass for an attribute of its own."""
    value = m.group(1) if m.group(1) is not None else m.group(2).replace(b'"', b"&quot;")
    return b'="' + value + b'"'


def plain_tags(data: bytes) -> bytes:
    """Every attribute of every tag written name="value", as Excel writes them; text is left
    as it is (an answer holding =' starts no value). The XML is well-formed (expat checks
    each part), so every '<' starts a tag."""
    if not _ODD_ATTRIBUTE.search(data):
        return data
    return _IN_TAG.sub(lambda m: QUOTED.sub(double_quoted, m.group()), data)


def too_big(path: Path, why: str) -> TanetError:
    return TanetError(f"{path} is too large or too strange to read safely: {why} (tanet reads at most "
                      f"{MAX_ROWS - 1:,} rows of {MAX_COLUMNS} columns, fewer when they are long). Save the "
                      "sheet as CSV and import that.")


def check_parts(z: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """Refuse a zip that is no workbook, holds too much, is protected with a password or
    names two parts the same; its parts by `part_key`."""
    parts = z.infolist()
    if not any(part_key(part.filename).endswith("workbook.xml") for part in parts):  # a zip of other things
        raise TanetError(f"{path} is a zip file but not an Excel workbook. Open the spreadsheet in Excel "
                         "and save it as .xlsx (Excel Workbook) or CSV UTF-8.")
    if len(parts) > MAX_PARTS:
        raise too_big(path, f"it holds {len(parts):,} parts")
    if any(part.flag_bits & 0x1 for part in parts):
        raise TanetError(f"{path} is protected with a password: open it in Excel, save a copy without one "
                         "(File > Info > Protect Workbook), and import that.")
    declared = sum(p.file_size for p in parts)
    if declared > MAX_UNPACKED:
        raise too_big(path, f"it unpacks to {declared // 2**20:,} MB")
    for part in parts:
        packed = max(part.compress_size, 1)
        if part.file_size > CHUNK and part.file_size > MAX_RATIO * packed:
            raise too_big(path, f"{part.filename} is packed {part.file_size // packed:,} times over, like a zip bomb")
    by_key = {part_key(part.filename): part for part in parts}
    if len(by_key) < len(parts):
        raise TanetError(f"{path} holds two parts of the same name (apart from capitals), so which one is read "
                         "cannot be told; it was not read. Save it again from Excel, or as CSV.")
    _check_part_names(z, by_key, path)
    return by_key


def _relations(z: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], rels: str) -> list[tuple[bytes, bytes]]:
    """The type and target of each relationship the part `rels` lists, as written."""
    if rels not in parts:
        return []
    text = whole_list(z, parts[rels])
    found = []
    for tag in _RELATION.findall(plain_tags(text.translate(_SPACES))):
        kind, target = re.search(rb' Type="([^"]*)"', tag), re.search(rb' Target="([^"]*)"', tag)
        found.append((kind.group(1) if kind else b"", target.group(1) if target else b""))
    return found



def whole_list(z: zipfile.ZipFile, part: zipfile.ZipInfo) -> bytes:
    """A list of relationships, read whole (one read only in part would leave the rest unweighed)."""
    with z.open(part) as f:
        text = f.read(MAX_LIST + 1)
    if len(text) > MAX_LIST:
        raise ValueError(f"{part.filename} lists far more parts than a workbook has")
    return text


def _check_part_names(z: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], path: Path) -> None:
    """The workbook must be xl/workbook.xml and its shared strings xl/sharedStrings.xml, the
    names every spreadsheet program gives them: the reader follows the relationships, and
    texts it found elsewhere would not have been weighed here."""
    def key(target: bytes) -> bytes:
        return target.replace(b"\\", b"/").lower()

    main = [key(target) for kind, target in _relations(z, parts, "_rels/.rels")
            if kind.lower().endswith(b"/officedocument")]
    texts = [key(target) for kind, target in _relations(z, parts, "xl/_rels/workbook.xml.rels")
             if kind.lower().endswith(b"/sharedstrings")]
    if any(t not in (b"xl/workbook.xml", b"/xl/workbook.xml") for t in main) \
            or any(t not in (b"sharedstrings.xml", b"/xl/sharedstrings.xml") for t in texts):
        raise TanetError(f"{path} keeps its sheets or texts under other names than spreadsheet programs give "
                         "them, so it was not read. Save it again from Excel, or as CSV.")


def sheet_names(z: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo]) -> set[str]:
    """Every part (by part_key) that could be read as a sheet: each XML part (but the shared
    strings), and whatever the workbook names as one, wherever it is and whatever it is called."""
    names = {key for key in parts if key.endswith(".xml")}
    for rels, base in (("xl/_rels/workbook.xml.rels", "xl"), ("_rels/.rels", "")):
        if rels not in parts:
            continue
        plain = plain_tags(whole_list(z, parts[rels]))
        for target in re.findall(rb'Target="([^"]+)"', plain):
            name = part_key(target.decode("utf-8", "replace"))
            if name.startswith("/"):
                names.add(name.lstrip("/"))
            else:
                names.update((posixpath.join(base, name), posixpath.normpath(posixpath.join(base, name))))
    return names - {SHARED_STRINGS}  # named there too, but weighed as the shared strings


def well_formed():
    """A parser that only checks a part is well-formed XML (no handler: at C's speed), and
    refuses a document type (before any entity is declared, let alone expanded)."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def no_doctype(*_):
        raise ValueError("it declares a document type")

    parser.StartDoctypeDeclHandler = no_doctype
    return parser


def parse_xml(parser, data: bytes, final: bool, part: zipfile.ZipInfo, path: Path) -> None:
    from xml.parsers import expat

    try:
        parser.Parse(data, final)
    except (expat.ExpatError, ValueError) as e:
        raise TanetError(f"{path} is not written as spreadsheet programs write one: its part {part.filename} "
                         f"is not plain XML ({e}), so it was not read. Save it again from Excel, or as CSV.") from None
