"""The demo's pictures as plain HTML and SVG: one colour per emotion in every picture, gaps drawn as gaps.

- :func:`probability_bars`: a clip's probabilities, one coloured bar per emotion.
- :func:`line_chart`: probabilities over time (an upload's timeline, the live chart); a "no speech" stretch
  breaks every line and is shaded, never bridged by a straight line.
- :func:`segment_band`: a long upload's timeline as a band of coloured segments, shown under the waveform.

Pure functions of the data (no plotting library, cheap enough for a live update every 0.5 s); the colours
come from :data:`EMOTION_COLOURS` alone, so an emotion looks the same in every chart.
"""

from __future__ import annotations

import hashlib
from html import escape

EMOTION_COLOURS = {
    "neutral": "#8c8c8c",
    "calm": "#7fb8d8",
    "happy": "#f2b701",
    "sad": "#3366cc",
    "angry": "#d62728",
    "fearful": "#8e44ad",
    "disgust": "#2ca02c",
    "surprised": "#ff7f0e",
    "no speech": "#e6e6e6",
    "uncertain": "#c7c7c7",
}
_SPARE = ["#17becf", "#bcbd22", "#e377c2", "#8c564b", "#1f77b4", "#9edae5"]
WIDTH, HEIGHT, PAD = 640, 220, 34


def colour(label: str) -> str:
    """The colour of ``label``: fixed for the known emotions, a stable pick (by name) for any other."""
    if label in EMOTION_COLOURS:
        return EMOTION_COLOURS[label]
    return _SPARE[int(hashlib.md5(label.encode()).hexdigest(), 16) % len(_SPARE)]


def probability_bars(scores: dict[str, float] | None) -> str:
    """``{label: probability}`` -> HTML bars, largest first, each in its emotion's colour."""
    if not scores:
        return ""
    rows = []
    for label, p in sorted(scores.items(), key=lambda item: -item[1]):
        rows.append(
            f'<div class="ser-bar" data-label="{escape(label)}" style="display:flex;align-items:center;gap:8px;'
            f'margin:3px 0"><span style="width:80px">{escape(label)}</span><span style="flex:1;background:#f3f3f3;'
            f'border-radius:3px"><span style="display:block;height:14px;width:{100 * p:.1f}%;background:'
            f'{colour(label)};border-radius:3px"></span></span><span style="width:44px;text-align:right">'
            f"{100 * p:.0f}%</span></div>")
    return '<div class="ser-bars">' + "".join(rows) + "</div>"


def line_chart(points: list[tuple[float, dict[str, float] | None]], labels: list[str], title: str = "",
               span: tuple[float, float] | None = None) -> str:
    """Probabilities over time as SVG: ``points`` are ``(time_s, {label: p})``, or ``(time_s, None)`` where
    there was no speech. Each emotion's line is drawn in runs of speech and broken at every gap."""
    if not points:
        return ""
    t0, t1 = span or (points[0][0], points[-1][0])
    t1 = t1 if t1 > t0 else t0 + 1.0

    def x(t: float) -> float:
        return PAD + (WIDTH - 2 * PAD) * (t - t0) / (t1 - t0)

    def y(p: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * p

    runs: list[list[tuple[float, dict[str, float]]]] = [[]]
    gaps, gap_start = [], None
    for t, scores in points:
        if scores is None:
            gap_start = t if gap_start is None else gap_start
            if runs[-1]:
                runs.append([])
        else:
            if gap_start is not None:
                gaps.append((gap_start, t))
                gap_start = None
            runs[-1].append((t, scores))
    if gap_start is not None:
        gaps.append((gap_start, points[-1][0]))
    parts = [f'<svg class="ser-line-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">']
    if title:
        parts.append(f'<text x="{PAD}" y="14" font-size="12">{escape(title)}</text>')
    for start, end in gaps:
        parts.append(f'<rect class="ser-gap" x="{x(start):.1f}" y="{PAD}" width="{max(x(end) - x(start), 1):.1f}" '
                     f'height="{HEIGHT - 2 * PAD}" fill="{EMOTION_COLOURS["no speech"]}"><title>no speech</title></rect>')
    for p in (0.0, 0.5, 1.0):
        parts.append(f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(p):.1f}" y2="{y(p):.1f}" stroke="#ddd"/>'
                     f'<text x="4" y="{y(p) + 4:.1f}">{p:.1f}</text>')
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 8}">{t0:.1f} s</text>'
                 f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" text-anchor="end">{t1:.1f} s</text>')
    for label in labels:
        for run in runs:
            if not run:
                continue
            if len(run) == 1:
                t, scores = run[0]
                parts.append(f'<circle data-label="{escape(label)}" cx="{x(t):.1f}" cy="{y(scores.get(label, 0)):.1f}" '
                             f'r="2.5" fill="{colour(label)}"/>')
                continue
            coords = " ".join(f"{x(t):.1f},{y(scores.get(label, 0)):.1f}" for t, scores in run)
            parts.append(f'<polyline data-label="{escape(label)}" points="{coords}" fill="none" '
                         f'stroke="{colour(label)}" stroke-width="2"/>')
    parts.append(_legend(labels, 14, left=WIDTH - PAD - _legend_width(labels)))  # top right, clear of the axis
    return "".join(parts) + "</svg>"


def segment_band(segments: list[tuple[float, float, str]], duration_s: float, *, analysed_s: float | None = None,
                 labels: list[str] | None = None) -> str:
    """A timeline as an SVG band under a waveform of ``duration_s`` seconds: ``segments`` are ``(start_s, end_s,
    label)``. Overlapping windows are cut at the next window's start, so each stretch of the file has one colour (its
    window's top emotion); past ``analysed_s`` (a long file analysed in part) the band is grey and says so. The legend
    follows ``labels``' order (the charts' order), else the alphabet."""
    if not segments or duration_s <= 0:
        return ""
    ordered = sorted(segments)
    height = 34
    parts = [f'<svg class="ser-band" viewBox="0 0 {WIDTH} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">']
    for i, (start, end, label) in enumerate(ordered):
        stop = min(end, ordered[i + 1][0]) if i + 1 < len(ordered) else end
        x0, x1 = WIDTH * start / duration_s, WIDTH * min(stop, duration_s) / duration_s
        parts.append(f'<rect class="ser-segment" data-label="{escape(label)}" x="{x0:.1f}" y="0" '
                     f'width="{max(x1 - x0, 0.5):.1f}" height="16" fill="{colour(label)}">'
                     f"<title>{start:.1f}-{stop:.1f} s: {escape(label)}</title></rect>")
    if analysed_s is not None and analysed_s < duration_s:
        x0 = WIDTH * analysed_s / duration_s
        parts.append(f'<rect class="ser-not-analysed" x="{x0:.1f}" y="0" width="{WIDTH - x0:.1f}" height="16" '
                     f'fill="#e5e5e5"><title>not analysed (after the first {analysed_s:.0f} s)</title></rect>'
                     f'<text x="{x0 + 4:.1f}" y="12" fill="#666">not analysed</text>')
    present = {label for _, _, label in ordered}
    order = [label for label in labels if label in present] if labels else sorted(present)
    parts.append(_legend(order + sorted(present - set(order)), 30, left=0))
    return "".join(parts) + "</svg>"


def _legend_width(labels: list[str]) -> int:
    return sum(20 + 7 * len(label) for label in labels)


def _legend(labels: list[str], y: float, left: float) -> str:
    items, x = [], left
    for label in labels:
        items.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour(label)}"/>'
                     f'<text x="{x + 13}" y="{y}">{escape(label)}</text>')
        x += 20 + 7 * len(label)
    return "".join(items)
