"""The 30-day chart, drawn on the server as SVG: stacked bars per day (delivered, failed,
the rest). Presentation attributes only — the CSP allows no inline style."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

from centauro.service.counts import Counts
from centauro.web.format import number

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 44, 24, 10
COLOURS = {"delivered": "#2f855a", "failed": "#c53030", "other": "#7b8794"}


def _ceiling(value: int) -> int:
    """A round axis maximum at or above ``value`` whose half is a whole number too
    (2, 4, 10 × 10^n), so the three labels match the bars."""
    step = 1
    while True:
        for m in (2, 4, 10):
            if m * step >= value:
                return m * step
        step *= 10


def days_chart(
    days: Sequence[tuple[date, Counts]], title: str = "Mensajes por día, últimos 30 días"
) -> Markup:
    """An accessible SVG of ``days`` (oldest first)."""
    top = _ceiling(max((c.accepted for _, c in days), default=0) or 1)
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    step = max(len(days) // 6, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 4}" y2="{y:.1f}" stroke="#d9e2ec"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#486581">{escape(number(round(top * fraction)))}</text>'
        )
    for i, (day, counts) in enumerate(days):
        x = LEFT + i * slot + (slot - bar) / 2
        other = max(counts.accepted - counts.delivered - counts.failed, 0)
        y = TOP + plot_h
        label = (
            f"{day:%d/%m}: {number(counts.accepted)} aceptados, "
            f"{number(counts.delivered)} entregados, {number(counts.failed)} fallidos"
        )
        parts.append(f"<g><title>{escape(label)}</title>")
        for kind, value in (
            ("delivered", counts.delivered),
            ("failed", counts.failed),
            ("other", other),
        ):
            h = plot_h * value / top
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS[kind]}"/>'
                )
        parts.append("</g>")
        to_last = len(days) - 1 - i  # a label every ``step`` days, none crowding the last
        if (i % step == 0 and to_last >= step // 2) or to_last == 0:
            last = i == len(days) - 1
            parts.append(
                f'<text x="{x + bar if last else x + bar / 2:.1f}" y="{HEIGHT - 8}" '
                f'font-size="11" text-anchor="{"end" if last else "middle"}" '
                f'fill="#486581">{day:%d/%m}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped labels
