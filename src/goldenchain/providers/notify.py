"""Alerts to a chat webhook (Slack-compatible JSON: ``{"text": ...}``). Best effort: a failed post is
reported, never raised into a run."""

from __future__ import annotations

import httpx

__all__ = ["post_alert"]


def post_alert(url: str, text: str, *, timeout: float = 10.0) -> str | None:
    """POST the alert; returns None on success, else a one-line reason (the URL is never repeated: it is a
    secret of its own)."""
    try:
        r = httpx.post(url, json={"text": text}, timeout=timeout)
    except httpx.HTTPError as e:
        return f"alert webhook not reached ({type(e).__name__})"
    if r.status_code >= 300:
        return f"alert webhook answered HTTP {r.status_code}"
    return None
