"""The CLI's rendering of stored text for people (issue 8, item 5)."""

from __future__ import annotations

from centauro.cli.output import safe, visible


def test_visible_shows_every_control_character_instead_of_obeying_it() -> None:
    hostile = "a\x1b]0;t\x07b\x1b[2J\x00\x7f\x85\x9b\u202e\tz"
    shown = visible(hostile)
    assert shown == "a␛]0;t␇b␛[2J␀␡\\x85\\x9b\\u202e␉z"
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)


def test_visible_keeps_line_breaks_only_when_asked() -> None:
    assert visible("uno\ndos") == "uno↵dos"
    assert visible("uno\ndos\x1b", newlines=True) == "uno\ndos␛"


def test_visible_leaves_ordinary_spanish_text_alone() -> None:
    text = "¿Tienen envío a Maracaibo? Sí, ñandú — 50 €"
    assert visible(text) == text


def test_safe_makes_rich_markup_inert() -> None:
    assert safe("[bold red]x[/] \x1b") == "\\[bold red]x\\[/] ␛"
