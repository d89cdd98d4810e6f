"""Session reports: what a session log says happened, as HTML or Markdown for the clinic's records.

A clinic documents each session after it ends, so the report reads the JSON Lines log the engine
wrote (or the live ``engine.log_entries()``) and lays out the arc as planned and as played, every
track, every facilitator action and every warning. Log content is untrusted: the renderers escape
all of it. ``render_html(entries, live=True)`` is what the control page shows for a live session.

``render_tracks_html`` and ``render_tracks_markdown`` are the participant-safe export
(``report --tracks-only``): the tracks' titles and times, and nothing clinical.
"""

from soundscape.report.html import render_html
from soundscape.report.markdown import render_markdown
from soundscape.report.summary import ABRUPT_NOTE, RUNNING_NOTE, read_session, summarize
from soundscape.report.tracks_only import render_tracks_html, render_tracks_markdown

__all__ = ["ABRUPT_NOTE", "RUNNING_NOTE", "read_session", "render_html", "render_markdown",
           "render_tracks_html", "render_tracks_markdown", "summarize"]
