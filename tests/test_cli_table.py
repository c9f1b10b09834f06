"""The list commands' tables (:mod:`flyte_core.cli.table`): fitted to the width by leaving out
optional columns, then wrapping the wrapping ones; never cutting a cell; coloured pieces that take
no room; wide characters counted as two cells."""

from __future__ import annotations

import click

from flyte_core.cli.table import Column, display_width, table_lines

COLUMNS = [Column("name"), Column("notes", wrap=True), Column("owner", optional=True), Column("size", optional=True)]
ROWS = [["alpha", "a few words that can wrap anywhere", "someone", "12"],
        ["beta", [("✓", "green"), (" ok", None)], "", "3"]]


def plain(lines: list[str]) -> list[str]:
    return [click.unstyle(line) for line in lines]


def test_a_wide_terminal_shows_every_column_on_one_line_each() -> None:
    lines = plain(table_lines(COLUMNS, ROWS, 200))
    assert lines[0].split() == ["name", "notes", "owner", "size"] and set(lines[1]) == {"─"}
    assert lines[2].split("   ") == ["alpha", "a few words that can wrap anywhere", "someone", "12"]
    assert lines[3].split() == ["beta", "✓", "ok", "3"] and len(lines) == 4
    assert all(line == line.rstrip() for line in lines)


def test_a_narrow_terminal_drops_optional_columns_last_first_then_wraps() -> None:
    lines = plain(table_lines(COLUMNS, ROWS, 50))
    assert lines[0].split() == ["name", "notes", "owner"]  # the wrapping column keeps 30 cells at first
    assert max(display_width(line) for line in lines) <= 50
    narrower = plain(table_lines(COLUMNS, ROWS, 25))
    assert narrower[0].split() == ["name", "notes"] and max(display_width(line) for line in narrower) <= 25
    assert len(narrower) > 4  # the notes wrapped
    notes = " ".join(line[len("alpha   "):].strip() for line in narrower[2:-1])
    assert notes == "a few words that can wrap anywhere"  # at spaces, nothing lost


def test_cells_are_never_cut_even_when_too_wide() -> None:
    lines = plain(table_lines([Column("id")], [["x" * 50]], 20))
    assert lines[2] == "x" * 50


def test_colours_take_no_room_and_wide_characters_take_two() -> None:
    styled = table_lines([Column("phase"), Column("name")], [[[("✓", "green"), (" ok", None)], "表格"], ["-", "b"]], 80)
    assert "\x1b[32m" in styled[2] and plain(styled)[2] == "✓ ok    表格"
    assert display_width("表格") == 4 and display_width("é") == 1 and display_width("e\u0301") == 1
