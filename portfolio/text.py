"""User text: Markdown rendered to HTML, then sanitised with nh3 before it is stored
or shown. Only formatting survives; scripts, event handlers, styles and
``javascript:`` links never reach a page (or a PDF)."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "sub", "sup", "small",
    "ul", "ol", "li", "blockquote", "pre", "code", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "a", "table", "thead", "tbody", "tr", "th", "td", "caption", "span", "div",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "td": {"colspan", "rowspan"}, "*": {"lang", "dir"}}


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Markdown (with inline HTML, as rich-text editors produce) to safe HTML."""
    return sanitise_html(_markdown.render(source or ""))


def plain_text(source: str) -> str:
    """Text with every tag removed (for titles, CSV, mails)."""
    return nh3.clean(source or "", tags=set())
