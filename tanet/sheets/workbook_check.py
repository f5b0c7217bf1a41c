"""An .xlsx checked before python-calamine reads it.

A workbook is a zip of XML that python-calamine reads whole: it builds the sheet's full
rectangle in memory (a 2 KB file naming cell XFD1048576 asks for 512 GiB), unpacks
whatever the zip holds (a zip bomb is gigabytes) and copies a shared string into every
cell that uses it (one 1 MB string used by a thousand cells is 1 GB). So the zip is first
unpacked here as a stream, in a few MB: the sizes it declares are verified, not believed,
and what the reader would hold in memory is added up before it is asked to (first from
above, cheaply; when that is over the limit, exactly, in a second pass).
"""

from __future__ import annotations

import functools
import re
import zipfile
from array import array
from pathlib import Path

from tanet.errors import TanetError
from tanet.sheets.workbook_parts import (
    CHUNK,
    MAX_COLUMNS,
    MAX_ROWS,
    PREFIX,
    SHARED_STRINGS,
    TAG_BODY,
    check_parts,
    parse_xml,
    plain_tags,
    sheet_names,
    too_big,
    well_formed,
)

MAX_SHARED_STRINGS = 1_000_000
# What python-calamine may hold for one sheet, measured (peak resident memory, 25,000 to
# 100,000 rows of six columns): about 67 bytes a cell of a number and 58 a cell of a shared
# string, besides the text copied into it; 32 for each empty one inside the sheet's
# rectangle; each different shared string once more, with 24 bytes. A register of 100,000
# members of six columns, as Excel writes it (shared strings), is counted at 63 MB and took
# 57 MB (69 MB with Python); with Python and tanet an import stays under 100 MiB.
MAX_READER_MEMORY = 72 * 1024 * 1024
CELL_COST, EMPTY_CELL_COST = 70, 32
_NEAR_END = 64 * 1024
_LONGEST_CELL = 1024 * 1024  # Excel's own limit is 32,767 characters

_DIMENSION = re.compile(rb"<" + PREFIX + rb'dimension(?: [^>]*?)? ref="[A-Za-z]*[0-9]*:?([A-Za-z]*)([0-9]*)"')
# XML lets an attribute be written many ways: r = 'A1', r="A1", with tabs or line breaks.
# The checks below read the one plain way, so every piece is first brought to it: each
# white-space character (all that \s matches) becomes a space, then quotes are made double.
# So the patterns can start with a literal, which is found fast.
_SPACES = bytes.maketrans(b"\t\r\n\x0b\x0c", b"     ")
_SPACE_BYTES = (b"\n", b"\t", b"\r", b"\x0b", b"\x0c")
_REF_ROW = re.compile(rb' r="[A-Za-z]*+([0-9]+)"')  # the reader takes any number of letters
_REF_COLUMN = re.compile(rb' r="([A-Za-z]++)[0-9]')
_SECOND_POSITION = re.compile(rb'<[^<>]*? r="[^"<>]*"[^<>]*? r="')  # in one tag, not in text
# A value after a value in one cell: no cell's tag between them.
_SECOND_VALUE = re.compile(rb"</" + PREFIX + rb"v\s*>(?:[^<]++|<(?!/?" + PREFIX + rb"[cv][\s>/]))*+<" + PREFIX
                           + rb"v[\s>/]")
_REFERENCE = re.compile(rb"&#|&[a-zA-Z]")
# A shared string's index in a cell, written the plain way. It may also match what is not a
# cell's (t="s" in another tag): that counts more text than the reader would hold, never less.
# Every other t="s" (<v>x</v>, <f/><v>0</v>, <v >0</v >: the reader still copies a string into
# the cell) is taken to use the longest. The tag's rest is bounded, so a tag of thousands of
# t="s" is read once, not once for each (possessive: never gone back over).
_SHARED_VALUE = re.compile(rb't="s"[^>]{0,200}+>\s*<' + PREFIX + rb"v>\s*([0-9]{1,18})\s*</")
# A cell's position with at least one letter (r="B7"); the reader places a cell without one by
# counting, where the check cannot follow it.
_CELL_POSITION = re.compile(rb"<" + PREFIX + rb'c(?: [^>]{0,1000}?)? r="[A-Za-z]')
_UNPLACED = re.compile(rb'<c r="[^A-Za-z]')  # a cell written the plain way, without a letter
_EDGE = 16 * 1024  # where a piece's furthest positions are looked for first, at each end
_SST_TAG = re.compile(rb"<" + PREFIX + rb"sst[\s>/][^>]*+")  # each tag read once, however long
_SST_COUNT = re.compile(rb"\s" + PREFIX + rb"""(?:count|uniqueCount)\s*=\s*["']\s*\+?([0-9]+)""")
_PREFIXED_CELL = re.compile(rb"<" + PREFIX[:-1] + rb"c[ >/]")  # the prefix not optional
_TAG = re.compile(rb"<[^>]*>")
_TAG_TO_MARK = re.compile(rb"<[^>\x00]*>")  # a tag, which never runs over a \x00
_SHARED_ITEM = re.compile(rb"<" + PREFIX + rb"si(?=[\s/>])")
# Where a cell, a row or a shared string starts (with or without a namespace prefix).
_STARTS = {"cell": (b"<c ", b"<c>", b":c ", b":c>", b"<row ", b"<row>", b":row ", b":row>"),
           "string": (b"<si>", b"<si ", b":si>", b":si ")}


class _Sheet:
    """What one sheet would cost to read: its furthest row and column, its cells, the text
    written in it (at most `written`, the length of its XML) and how many of its cells may
    hold a shared string (`shared_uses`, at least as many as do)."""

    def __init__(self, max_rows: int = MAX_ROWS):
        self.max_rows = max_rows
        self.rows = self.columns = self.cells = self.written = self.shared_uses = 0

    def memory(self, text: int, shared_text: int, shared: array) -> int:
        """With `text` written in the sheet and `shared_text` copied into it from the
        shared strings."""
        area = self.rows * self.columns
        return self.cells * CELL_COST + max(0, area - self.cells) * EMPTY_CELL_COST + text + shared_text \
            + sum(shared) + 24 * len(shared)


class TooManyRows(TanetError):
    """A sheet that reaches past the rows it may have (a caller words it its own way)."""


def check_workbook(path: Path, max_rows: int = MAX_ROWS) -> None:
    """Refuse, in one line, an .xlsx too large or too strange to read safely, or whose
    sheet reaches past row `max_rows` (TooManyRows)."""
    import zlib

    try:
        with zipfile.ZipFile(path) as z:
            parts = check_parts(z, path)
            shared = _shared_string_sizes(z, parts.get(SHARED_STRINGS), path)
            sheets = sheet_names(z, parts)
            for key, part in parts.items():
                if key in sheets:
                    worksheet = key.startswith("xl/worksheets/")  # not a theme's r="50000"
                    _check_sheet(z, part, path, shared, max_rows if worksheet else MAX_ROWS)
                elif key != SHARED_STRINGS:  # its real size verified, and its XML (not an image's bytes)
                    for _ in _unpack(z, part, path, None, xml=key.endswith((".xml", ".rels"))):
                        pass
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, EOFError, ValueError) as e:
        raise TanetError(f"{path} is not a spreadsheet tanet can read ({e}). Open it in Excel and save it "
                         "again as .xlsx, or save it as CSV.") from None
    except OSError as e:
        raise TanetError(f"Cannot read {path}: {e.strerror or e}.") from None


def _strange_text(path: Path) -> TanetError:
    return TanetError(f"{path} writes its text in a way tanet does not read (a CDATA section, a comment or an "
                      "instruction inside its XML, which Excel never writes), so it was not read. Save it again "
                      "from Excel, or as CSV.")


def _check_plain_xml(piece: bytes, first: bool, path: Path) -> None:
    """Refuse a CDATA section, a comment or a processing instruction (but the declaration the
    part starts with): the reader skips them whole, where the checks would read on inside."""
    at = piece.find(b"<?") if b"?" in piece else -1  # one character is found far faster than two
    if first and at >= 0 and not piece[:at].lstrip(b"\xef\xbb\xbf").strip():  # the declaration (after a BOM)
        end = piece.find(b"?>", at)  # none: the reader cannot read the part at all
        at = piece.find(b"<?", end) if end >= 0 and piece.find(b"?", end + 2) >= 0 else -1
    if at >= 0 or b"!" in piece and b"<!" in piece:
        raise _strange_text(path)


def _unpack(z: zipfile.ZipFile, part: zipfile.ZipInfo, path: Path, kind: str | None, xml: bool = True):
    """The part's content in pieces that each end just before a cell, row or shared string
    starts (so none is cut in two); zipfile stops at the declared size and checks the CRC,
    so a part larger than it says is an error, never read on. An `xml` part must be
    well-formed XML (expat, with no handler: at C's speed), so the patterns here read the
    same tags, attributes and texts as the reader, however leniently it would read others."""
    start = _STARTS.get(kind or "")
    tail = b""
    parser = well_formed() if xml else None
    with z.open(part) as f:
        while chunk := f.read(CHUNK):
            if parser:
                parse_xml(parser, chunk, False, part, path)
            if start is None:
                continue
            text = tail + chunk
            near = max(0, len(text) - _NEAR_END)  # the last start is nearly always there: looked for there first
            cut = max(text.rfind(marker, near) for marker in start)
            if cut < 0:
                cut = max(text.rfind(marker) for marker in start)
            cut = text.rfind(b"<", 0, cut + 1) if cut > 0 else 0
            if cut:
                yield text[:cut]
            tail = text[cut:]
            if len(tail) > _LONGEST_CELL + CHUNK:
                raise too_big(path, f"one {kind} in {part.filename} holds more than a spreadsheet cell can")
    if parser:
        parse_xml(parser, b"", True, part, path)
    if tail:
        yield tail


def _shared_string_sizes(z: zipfile.ZipFile, part: zipfile.ZipInfo | None, path: Path) -> array:
    """The length of each shared string, in bytes, by its index."""
    sizes = array("I")
    if part is None:
        return sizes
    for number, piece in enumerate(_unpack(z, part, path, "string")):
        _check_plain_xml(piece, number == 0, path)
        if b"sst" in piece:  # the reader makes room for as many strings as the file says, first
            for tag in _SST_TAG.findall(piece):
                for count in _SST_COUNT.findall(tag):
                    if len(count) > 9 or int(count) > MAX_SHARED_STRINGS:
                        raise too_big(path, f"it says it holds over {MAX_SHARED_STRINGS:,} different texts")
        if b"\x00" in piece:  # not XML: each string's text measured on its own
            texts = [_TAG.sub(b"", item) for item in _SHARED_ITEM.split(piece)]
        else:  # each string's start marked by a \x00, which no tag may run over
            texts = _TAG_TO_MARK.sub(b"", _SHARED_ITEM.sub(b"\x00", piece)).split(b"\x00")
        if sizes and texts:
            sizes[-1] += len(texts[0])
        sizes.extend(array("I", map(len, texts[1:])))
        if len(sizes) > MAX_SHARED_STRINGS:
            raise too_big(path, f"it holds over {MAX_SHARED_STRINGS:,} different texts")
    return sizes


def _check_sheet(z: zipfile.ZipFile, part: zipfile.ZipInfo, path: Path, shared: array, max_rows: int) -> None:
    """The sheet's declared area (<dimension ref=...>), its furthest cell, and what reading
    it would take in memory. The text is first taken at most: as long as the sheet's XML,
    and the longest shared string in every cell that may use one. Only when that puts the
    sheet over the limit are they counted exactly, in a second pass, so a sheet near the
    limit is judged as if they had been counted exactly from the start. A sheet whose first
    piece shows it will be near the limit is counted exactly from the start, in one pass."""
    sheet, exact, text, shared_text, longest = _Sheet(max_rows), None, 0, 0, max(shared, default=0)
    for piece in _unpack(z, part, path, "cell"):
        piece = _plain(piece, path)
        _measure(sheet, piece, path)
        if exact is None:
            exact = _near_the_limit(sheet, part.file_size, shared)
        if exact:
            text, shared_text = text + len(_TAG.sub(b"", piece)), shared_text + _shared_text(piece, shared, longest, path)
    if not exact:
        if sheet.memory(sheet.written, sheet.shared_uses * longest, shared) <= MAX_READER_MEMORY:
            return
        for piece in _unpack(z, part, path, "cell"):
            piece = _plain(piece, path)
            text, shared_text = text + len(_TAG.sub(b"", piece)), shared_text + _shared_text(piece, shared, longest, path)
    need = sheet.memory(text, shared_text, shared)
    if need > MAX_READER_MEMORY:
        raise too_big(path, f"reading it would take about {need // 2**20:,} MB of memory")


def _near_the_limit(sheet: _Sheet, size: int, shared: array) -> bool:
    """Whether the whole sheet, `size` bytes of XML, will likely be over the limit counted at
    most, going by its first piece (`sheet` so far): then it is counted exactly at once."""
    more = size / max(sheet.written, 1)
    return sheet.memory(size, int(sheet.shared_uses * more) * max(shared, default=0), shared) \
        + int(sheet.cells * (more - 1)) * CELL_COST > MAX_READER_MEMORY


def _measure(sheet: _Sheet, piece: bytes, path: Path) -> None:
    """Add one plain piece of a sheet to what reading the sheet would take."""
    _check_plain_xml(piece, not sheet.written, path)
    placed = piece.count(b'<c r="')
    piece = _one_position_each(piece, placed, path)
    if piece.count(b"<c") == placed:  # every tag starting so is a cell written as Excel writes one
        cells = placed
        _check_positions(piece, path, cells, placed)
    else:
        cells = piece.count(b"<c ") + piece.count(b"<c>")
        _check_positions(piece, path, cells + piece.count(b"<c/>"), placed)
    if b":c" in piece:
        cells += piece.count(b":c ") + piece.count(b":c>")
    if b"dimension" in piece:
        for m in _DIMENSION.finditer(piece.replace(b'"ref="', b'" ref="')):
            _reach(sheet, m.group(1), m.group(2), path)
    _reach(sheet, *_furthest(piece), path)
    sheet.cells += cells
    sheet.shared_uses += piece.count(b't="s"')  # each use found by _SHARED_VALUE starts so
    sheet.written += len(piece)


def _one_position_each(piece: bytes, placed: int, path: Path) -> bytes:
    """The piece with a position written straight after another attribute's closing quote
    (r="A3"r="XFD3000") made one of its own, and a tag with two positions refused: the reader
    keeps the last. Written as Excel writes them (each first in its tag, `placed` in cells)
    they are counted cheaply; only when they are not are the tags looked into."""
    positions = piece.count(b'r="')
    if positions == placed + piece.count(b'<row r="') or b":" in piece and positions == placed + piece.count(
            b'<row r="') + piece.count(b':c r="') + piece.count(b':row r="'):  # or with a prefix: <x:c r="
        return piece
    piece = piece.replace(b'"r="', b'" r="')
    if _SECOND_POSITION.search(piece):
        raise TanetError(f"{path} gives a cell or row two positions (as Excel never does), so it was not read. "
                         "Save it again from Excel, or as CSV.")
    return piece


def _check_one_value(piece: bytes, path: Path) -> None:
    """Refuse a cell with two values (<v>0</v><v>1</v>): the reader keeps the last, the shared
    string weighed would be the first. Written as Excel writes them (each value last in its
    cell), they are counted cheaply; only when they are not are the cells looked into."""
    values = piece.count(b"<v>")
    plain = values == piece.count(b"</v></c>") and values == piece.count(b"<v") and b":v" not in piece
    if not plain and _SECOND_VALUE.search(piece):
        raise TanetError(f"{path} gives a cell two values (as Excel never does), so it was not read. Save it "
                         "again from Excel, or as CSV.")


def _largest(rows) -> int:
    """The largest of the rows (as digits), each read by int at once when none is long."""
    return max(map(int, rows), default=0) if max(map(len, rows), default=0) <= 15 else max(map(_number, rows))


def _number(digits: bytes) -> int:
    """A position's row however many digits it has: one of over 15 (past any sheet's rows) is
    read by its first 15, never handed whole to int (which refuses over 4,300, in its words)."""
    return int(digits.lstrip(b"0")[:15] or b"0")


def _furthest(piece: bytes) -> tuple[bytes, bytes]:
    """The furthest column and row the piece's positions (r="B7", r="7") reach. A sheet is
    written row after row, so they are first looked for at its two ends; then one search for
    a position beyond those confirms it, and only when it finds one is every position read."""
    edges = ((0, _EDGE), (max(0, len(piece) - _EDGE), len(piece)))
    rows = [row for start, end in edges for row in _REF_ROW.findall(piece, start, end)]
    columns = {column for start, end in edges for column in _REF_COLUMN.findall(piece, start, end)}
    row, column = _largest(rows), max(columns, key=_column_order, default=b"")
    # A row past any a sheet may have is refused: read as before, rather than made a search for
    # (whose pattern grows with the square of the row's digits).
    if row > MAX_ROWS or _past_row(row).search(piece) or _past_column(column.upper()).search(piece):
        row, column = _largest(set(_REF_ROW.findall(piece))), max(
            set(_REF_COLUMN.findall(piece)), key=_column_order, default=b"")
    return column, str(row).encode()


def _column_order(column: bytes) -> tuple[int, bytes]:
    return len(column), column.upper()


@functools.lru_cache(maxsize=64)
def _past_row(row: int) -> re.Pattern:
    """A position (as _REF_ROW reads one) whose row is past `row`: more digits, or as many
    and larger at the first that differs."""
    digits = str(row)
    larger = [rb"[1-9][0-9]{%d,}" % len(digits)] + [
        f"{digits[:i]}[{int(d) + 1}-9]{'[0-9]' * (len(digits) - i - 1)}".encode()
        for i, d in enumerate(digits) if d != "9"]
    # Never gone back over (possessive), and first the number's length looked at: nearly
    # every position is shorter, and is passed over at once.
    return re.compile(rb' r="[A-Za-z]*+0*+(?=[1-9][0-9]{%d})(?:' % (len(digits) - 1) + b"|".join(larger) + rb')"')


@functools.lru_cache(maxsize=64)
def _past_column(column: bytes) -> re.Pattern:
    """A position (as _REF_COLUMN reads one) whose column is past `column` (in capitals):
    more letters, or as many and later at the first that differs, in either case."""
    def either(letters: bytes) -> bytes:
        return b"".join(b"[%c%c]" % (c, c + 32) for c in letters)

    larger = [rb"[A-Za-z]{%d,}" % (len(column) + 1)]
    larger += [either(column[:i]) + b"[%c-Z%c-z]" % (c + 1, c + 33) + rb"[A-Za-z]" * (len(column) - i - 1)
               for i, c in enumerate(column) if c < ord("Z")]
    return re.compile(rb' r="(?:' + b"|".join(larger or [rb"(?!)"]) + rb")[0-9]")


def _check_positions(piece: bytes, path: Path, cells: int, placed: int) -> None:
    """Every cell must say where it is (r="B7"): the reader places one that does not by
    counting, which the check does not follow. Cells written as Excel writes them (<c r="B7",
    `placed` of them) are counted cheaply; only when they are not all so are the positions
    looked for."""
    if b":c" in piece:
        cells += len(_PREFIXED_CELL.findall(piece))
    if not cells or (placed >= cells and not _UNPLACED.search(piece)):
        return
    if len(_CELL_POSITION.findall(piece)) < cells:
        raise TanetError(f"{path} leaves out where some of its cells are (as Excel never does), so it was not "
                         "read. Save it again from Excel, or as CSV.")


def _shared_text(piece: bytes, shared: array, longest: int, path: Path) -> int:
    """The shared strings' text the piece's cells use, copied into each; a use whose index
    is not read here, or names no string, is taken as the longest string."""
    from collections import Counter

    _check_one_value(piece, path)
    found = Counter(_SHARED_VALUE.findall(piece)) if shared else {}
    exact = sum((shared[int(index)] if int(index) < len(shared) else longest) * uses for index, uses in found.items())
    return exact + (piece.count(b't="s"') - sum(found.values())) * longest


def _plain(piece: bytes, path: Path) -> bytes:
    """The piece with every attribute written as name="value" and white space as spaces; a
    character reference inside a tag (r="&#88;FD1") is refused rather than guessed at."""
    if any(space in piece for space in _SPACE_BYTES):  # found far faster than translated
        piece = piece.translate(_SPACES)
    for tag in re.findall(rb"<" + PREFIX + rb"(?:c|row|dimension) " + TAG_BODY + rb">", piece) if b"&" in piece else ():
        if _REFERENCE.search(tag):
            raise TanetError(f"{path} writes a cell's position in a way tanet does not read (a character "
                             "reference inside a tag), so it was not read. Save it again from your spreadsheet "
                             "program, or as CSV.")
    if b"'" not in piece and b" =" not in piece and b"= " not in piece:
        return piece  # every attribute already written name="value", as Excel writes them
    return plain_tags(piece)


def _reach(sheet: _Sheet, column: bytes, row: bytes, path: Path) -> None:
    rows = _number(row)
    columns = 0
    for letter in column.upper()[:4]:
        columns = columns * 26 + letter - 64
    if rows > sheet.max_rows:  # past what any sheet may have it is too big, not just too many rows
        refusal = too_big(path, f"its sheet reaches row {rows:,}")
        raise TooManyRows(str(refusal)) if rows <= MAX_ROWS else refusal
    if columns > MAX_COLUMNS:
        raise too_big(path, f"its sheet reaches column {column[:8].decode('ascii')}")
    sheet.rows, sheet.columns = max(sheet.rows, rows), max(sheet.columns, columns)

