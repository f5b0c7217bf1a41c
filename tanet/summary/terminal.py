"""The summary on the terminal: its sections as Rich tables, the bar charts as blocks."""

from __future__ import annotations

from tanet.summary.document import document


def to_rich(d: dict, console) -> None:
    """Each section under its underlined heading: facts, table, bars and note."""
    from rich.table import Table
    from rich.text import Text

    from tanet.output.render import cell, grid

    title, sections = document(d)
    console.print(cell(title, "bold"))
    for s in sections:
        console.print()
        console.print(cell(s.title, "bold underline"))
        if s.facts:
            t = Table(show_header=False, box=None, pad_edge=False)
            t.add_column(style="bold")
            t.add_column()
            for k, v in s.facts:
                t.add_row(cell(k), cell(v))
            console.print(t)
        if s.rows:  # drawn as every list is: words wrapped whole, never cut short with '…'
            console.file.write(grid(list(s.columns), s.rows, console.width))
        if s.bars:
            top = max((b[1] for b in s.bars), default=0) or 1
            t = Table(show_header=False, box=None, pad_edge=False)
            t.add_column()
            t.add_column()
            for label, value, shown in s.bars:
                bar = Text("█" * max(0, round(30 * value / top)), style="cyan")
                bar.append(f" {shown}")
                t.add_row(cell(label), bar)
            console.print(t)
        if s.note:
            console.print(cell(s.note))
        if not (s.facts or s.rows or s.bars or s.note):
            console.print("Nothing this period.")
