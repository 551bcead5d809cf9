"""The shot machine on its own, the ledger enforcing it, and its drawing in the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenchain.core.shotstate import (
    END_STATES,
    STATES,
    TRANSITIONS,
    InvalidTransition,
    check_move,
    next_step,
)
from goldenchain.store.db import Database
from goldenchain.store.ledger import Ledger

DOC = Path(__file__).parents[2] / "docs" / "shot-states.md"


def test_every_state_is_reachable_from_pending_and_a_run_can_resume_any() -> None:
    seen, todo = {"pending"}, ["pending"]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(STATES)
    for s in STATES:
        check_move(s, "running")  # the next run picks any shot up


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("pending", "done"),
        ("pending", "failed"),
        ("pending", "blocked"),
        ("done", "failed"),
        ("blocked", "stopped"),
    ],
)
def test_moves_no_rule_allows_are_refused(old: str, new: str) -> None:
    with pytest.raises(InvalidTransition):
        check_move(old, new)
    with pytest.raises(InvalidTransition):
        check_move(old, "melting")


def test_end_states_come_only_from_a_run() -> None:
    for end in END_STATES - {"done", "interrupted"}:
        froms = {s for s, to in TRANSITIONS.items() if end in to and s != end}
        assert froms == {"running"}, (end, froms)


def test_next_step_says_what_a_person_can_do() -> None:
    assert next_step("failed", "s03") == "goldenchain retry s03 (new takes; see goldenchain failures)"
    assert next_step("blocked", "s01", "blocked: fal auth: bad key; check the fal key, then run again") == (
        "check the fal key, then run again"
    )
    assert all(next_step(s, "s01") for s in STATES)
    assert "goldenchain review" in next_step("needs_review", "s01")


def test_a_shot_held_for_review_is_left_by_a_run_and_a_person_decides() -> None:
    assert "needs_review" in END_STATES
    check_move("running", "needs_review")
    for person in ("done", "needs_retake"):  # approve the clip, or ask for a new one
        check_move("needs_review", person)
    with pytest.raises(InvalidTransition):
        check_move("pending", "needs_review")


def test_a_draft_run_leaves_a_shot_for_a_person_to_choose_a_draft() -> None:
    assert "drafts_ready" in END_STATES
    check_move("running", "drafts_ready")
    check_move("drafts_ready", "running")  # the next run makes the final still from the chosen draft
    check_move("drafts_ready", "needs_retake")
    with pytest.raises(InvalidTransition):
        check_move("pending", "drafts_ready")
    assert "goldenchain use s02 --draft N" in next_step("drafts_ready", "s02")


def test_the_ledger_refuses_a_move_the_machine_does_not_allow(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        led = Ledger(db)
        led.ensure_project("p", "c", str(tmp_path), [{"id": "s01", "prompt": "x"}])
        with pytest.raises(InvalidTransition, match="pending to done"):
            led.set_shot("p", "s01", status="done")
        led.set_shot("p", "s01", status="running", stage="still")
        led.set_shot("p", "s01", status="blocked", detail="blocked: fal network: down; run again")
        assert led.shot("p", "s01").status == "blocked"
    finally:
        db.dispose()


def test_the_docs_draw_the_machine_as_it_is() -> None:
    text = DOC.read_text(encoding="utf-8")
    for old, targets in TRANSITIONS.items():
        for new in targets:
            if new != old:
                assert f"{old} --> {new}" in text, f"docs/shot-states.md lacks {old} --> {new}"
