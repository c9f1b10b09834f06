"""The tables of the list commands (``flyte runs list``, ``flyte cache list``, ``flyte plugins``),
laid out as plain text that fits the terminal.

A list command should answer within 100 ms. rich's ``Table`` costs about 45 ms to import and 35 ms
to render twenty rows here, more than the rest of the command; these tables need none of what it
offers beyond columns, so they are laid out here and coloured with click (no colour when the
output is not a terminal). The rich renderables stay for the tree views (``runs show``).
"""

from __future__ import annotations

import shutil
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence

import attrs
import click

#: Columns are apart by a space, a (blank) rule and a space.
GAP = 3
#: A wrapping column keeps at least this many cells when its text is longer.
WRAP_WIDTH = 30

#: A cell: plain text, or pieces of text each with a colour (a click colour name, "dim", or None;
#: a wrapping column shows them without colour).
Cell = str | Sequence[tuple[str, str | None]]


@attrs.frozen
class Column:
    """A table column: ``optional`` columns are left out when the terminal is too narrow (the last
    optional one first); ``wrap`` columns may wrap at spaces, the others are never wrapped or cut."""

    header: str
    optional: bool = False
    wrap: bool = False


def print_table(columns: list[Column], rows: list[list[Cell]], width: int | None = None) -> None:
    """Print ``rows`` under ``columns`` on stdout, fitted to ``width`` (the terminal's, or
    ``COLUMNS``, or 80 when the output is not a terminal)."""
    for line in table_lines(columns, rows, width or shutil.get_terminal_size((80, 24)).columns):
        click.echo(line)


def table_lines(columns: list[Column], rows: list[list[Cell]], width: int) -> list[str]:
    """The lines of the table (with colour codes): a header, a rule, then each row (a wrapped cell
    continues on the following lines)."""
    texts = [[_plain(cell) for cell in row] for row in rows]
    cells = [[c.header, *(row[i] for row in texts)] for i, c in enumerate(columns)]
    full = [max(display_width(text) for text in column) for column in cells]  # every cell on one line
    # The least a wrapping column can have: its longest word. Before optional columns are left out,
    # it asks for WRAP_WIDTH cells (fewer when it is narrower).
    least = [max((display_width(w) for text in column for w in text.split()), default=0) if c.wrap else full[i]
             for i, (c, column) in enumerate(zip(columns, cells, strict=True))]
    needs = [max(least[i], min(full[i], WRAP_WIDTH)) if c.wrap else full[i] for i, c in enumerate(columns)]
    keep = list(range(len(columns)))
    optional = [i for i, c in enumerate(columns) if c.optional]
    while optional and _total(needs[i] for i in keep) > width:
        keep.remove(optional.pop())
    widths = {i: full[i] for i in keep}
    spare = width - _total(widths.values())
    for i in reversed(keep):  # wrapping columns give up what the others need, down to their longest word
        if spare < 0 and columns[i].wrap:
            give = min(-spare, widths[i] - least[i])
            widths[i] -= give
            spare += give
    lines = [_join([(click.style(columns[i].header, bold=True), widths[i] - display_width(columns[i].header))
                    for i in keep])]
    lines.append(click.style("─" * _total(widths.values()), dim=True))
    for row, plain in zip(rows, texts, strict=True):
        wrapped = {i: (textwrap.wrap(plain[i], widths[i]) or [""]) if columns[i].wrap else [plain[i]] for i in keep}
        for n in range(max(len(w) for w in wrapped.values())):
            pieces = []
            for i in keep:
                text = wrapped[i][n] if n < len(wrapped[i]) else ""
                shown = _styled(row[i]) if n == 0 and not columns[i].wrap else text
                pieces.append((shown, widths[i] - display_width(text)))
            lines.append(_join(pieces))
    return lines


def display_width(text: str) -> int:
    """How many terminal cells ``text`` takes (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def _total(widths: Iterable[int]) -> int:
    values = list(widths)
    return sum(values) + GAP * max(len(values) - 1, 0)


def _plain(cell: Cell) -> str:
    return cell if isinstance(cell, str) else "".join(text for text, _ in cell)


def _styled(cell: Cell) -> str:
    if isinstance(cell, str):
        return cell
    return "".join(click.style(text, dim=True) if color == "dim" else click.style(text, fg=color) if color else text
                   for text, color in cell)


def _join(pieces: list[tuple[str, int]]) -> str:
    """One line of (shown text, spaces to pad it with) pieces; no padding after the last one that
    shows anything (the text may carry colour codes, so trailing spaces are left out, not stripped)."""
    while len(pieces) > 1 and not pieces[-1][0]:
        pieces = pieces[:-1]
    return (" " * GAP).join(text + " " * pad for text, pad in pieces[:-1]) + (
        (" " * GAP if len(pieces) > 1 else "") + pieces[-1][0] if pieces else "")
