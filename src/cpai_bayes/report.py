"""The HTML report: a title, a data-provenance banner, and sections that each stage adds."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

__all__ = ["Section", "render_report", "frame_html"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.88em;margin:.8em 0}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
.banner{background:#fff3cd;border:2px solid #d39e00;padding:.8em 1em;font-weight:600}
.flag{color:#a00;font-weight:600} .note{color:#555;font-size:.92em}
"""


@dataclass(frozen=True)
class Section:
    """One report section: a title and a body of trusted HTML (built from escaped content)."""

    title: str
    body: str


def frame_html(df: pd.DataFrame, *, digits: int = 4, index: bool = False) -> str:
    """A frame as an HTML table, floats rounded to ``digits`` decimals."""
    return df.to_html(index=index, float_format=lambda x: f"{x:.{digits}f}", border=0,
                      na_rep="", escape=True)


def render_report(title: str, sections: list[Section], *, synthetic: bool, source: str,
                  run_info: dict) -> str:
    """The full HTML page. A synthetic data source gets a banner at the top of the page."""
    banner = ""
    if synthetic:
        banner = (
            '<p class="banner">SYNTHETIC DATA. Every number computed here comes from a synthetic '
            "panel calibrated to the seed study's published moments and estimates "
            "(cpai_bayes.simulate). It is not the authors' data, and no result below is a result "
            "about Chinese provinces. Only the columns marked <em>paper</em> are published values."
            "</p>")
    info = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in run_info.items())
    toc = "".join(f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>'
                  for i, s in enumerate(sections))
    body = "".join(f'<h2 id="s{i}">{html.escape(s.title)}</h2>\n{s.body}\n'
                   for i, s in enumerate(sections))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n{banner}\n"
        f"<p class=\"note\">Data: {html.escape(source)}. Generated {stamp}.</p>\n"
        f"<table>{info}</table>\n<ol>{toc}</ol>\n{body}</body></html>\n"
    )
