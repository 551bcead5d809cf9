"""Money checks of whole runs, from the emulator's request log and the ledger's report."""

from __future__ import annotations

from collections import Counter
from typing import Any


def create_requests(requests: list[dict[str, Any]]) -> Counter[str]:
    """Create requests per take, accepted or not (the emulator marks them ``op: create``): by our own id where
    the request carries it (Kling's ``external_task_id``), else by the request body's hash (a take's create
    body never changes, and two takes never share one: their seeds or start frames differ)."""
    c: Counter[str] = Counter()
    for r in requests:
        if r.get("op") == "create":
            c[r.get("external_task_id") or r["body_sha256"]] += 1
    return c


def assert_each_take_paid_once(
    requests: list[dict[str, Any]], takes: list[dict[str, Any]], shots: int, *, may_hold: bool
) -> list[dict[str, Any]]:
    """The money check of a run that ended with every shot done on the clean scenario (one still and one clip
    per shot are needed): every create request belongs to a take and was sent once, and there are no more takes
    than needed: one still per shot, plus one for each still take held for review (fal cannot be asked by our
    id, so a take whose create may have gone out is held, never resent, and the shot makes another); Kling
    takes are never held (they are asked by our id). Returns the held takes."""
    sent = create_requests(requests)
    assert all(n == 1 for n in sent.values()), f"a create was sent twice: {sent}"
    clips = [t for t in takes if t["stage"] == "clip"]
    stills = [t for t in takes if t["stage"] == "still"]
    held = [t for t in takes if t["state"] == "needs_review"]
    assert all(t["provider"] == "kling" for t in clips) and all(t["provider"] == "fal" for t in stills)
    assert all(t["stage"] == "still" and t["failure_class"] == "ambiguous" for t in held), held
    assert may_hold or not held, f"takes held for review: {held}"
    # the takes needed, and no more: a resume that gave up a take and paid for a new one fails here
    assert len(clips) == shots, [t["idempotency_key"] for t in clips]
    assert len(stills) == shots + len(held), [(t["idempotency_key"], t["state"]) for t in stills]
    # Kling: one create request per clip take, with its own id, and none for anything else
    kling = {k: n for k, n in sent.items() if k.startswith("gc-")}
    assert set(kling) == {t["idempotency_key"] for t in clips}, (kling, clips)
    # fal: one accepted create per take that holds a task id; any other accepted create is a held take's
    fal = [r for r in requests if r.get("op") == "create" and r["provider"] == "fal"]
    fal_tasks = {r["task_id"] for r in fal if r.get("accepted")}
    recorded = {t["provider_task_id"] for t in stills if t["provider_task_id"]}
    assert recorded <= fal_tasks, (recorded, fal_tasks)
    assert len(fal_tasks - recorded) <= len(held), "a paid still that no take accounts for"
    assert len(stills) - len(held) <= len(fal) <= len(stills), (len(fal), len(stills), len(held))
    assert sum(sent.values()) == len(kling) + len(fal)
    return held
