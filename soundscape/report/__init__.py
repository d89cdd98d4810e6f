"""Session reports: what a session log says happened, as HTML or Markdown for the clinic's records.

A clinic documents each session after it ends, so the report reads the JSON Lines log the engine
wrote (or the live ``engine.log_entries()``) and lays out the arc as planned and as played, every
track, every facilitator action and every warning. Log content is untrusted: the renderers escape
all of it. ``render_html(entries, live=True)`` is what the control page shows for a live session.
"""

from soundscape.report.html import render_html
from soundscape.report.markdown import render_markdown
from soundscape.report.summary import ABRUPT_NOTE, RUNNING_NOTE, read_session, summarize

__all__ = ["ABRUPT_NOTE", "RUNNING_NOTE", "read_session", "render_html", "render_markdown",
           "summarize"]
