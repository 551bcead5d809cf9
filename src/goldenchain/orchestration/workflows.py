"""Durable workflows: one per shot, and one per paid take on its provider's queue."""

from __future__ import annotations

from typing import Any

from dbos import DBOS, SetWorkflowID

from goldenchain.core.failures import blocked_detail
from goldenchain.orchestration.awaiting import announce_end, await_workflow
from goldenchain.orchestration.checks import check_clip_take, gate_still
from goldenchain.orchestration.hints import fallback_interval
from goldenchain.orchestration.steps import poll_take, prepare_take, set_shot_state, start_take

MAX_SUBMIT_RETRIES = 8
#: take failures after which another take may succeed; anything else ends the shot
RETAKE_CLASSES = ("moderation", "provider_error", "ambiguous", "timeout", "rate_limit")


def queue_name(provider: str) -> str:
    return f"gc-{provider}"


def _blocked_take(sub: dict[str, Any], take_no: int, stage: str, plan: dict[str, Any]) -> dict[str, Any]:
    cls = sub.get("failure_class") or "outage"
    prov = plan["stills"]["provider"] if stage == "still" else plan["video"]["provider"]
    reason = sub.get("reason") or "the provider did not accept the create in time"
    return {
        "take_id": sub["take_id"],
        "take_no": take_no,
        "outcome": "blocked",
        "failure_class": cls,
        "reason": reason,
        "detail": blocked_detail(cls, prov, reason),
    }


@DBOS.workflow()
async def paid_take(
    plan: dict[str, Any], stage: str, take_no: int, parent_take_id: int | None
) -> dict[str, Any]:
    """start (find or create, intent first, create call) -> polls, each at its due time -> download and hash.

    Two steps per take on the happy path: the start, and the poll that downloads. A poll's due time comes from
    recorded outputs (the acceptance, then each poll's end), so it is the same when a step runs again after a
    crash; the step waits for it itself, which records one operation per poll instead of a sleep and a poll."""
    announce_end()
    sub: dict[str, Any] = {}
    blocked_after = float(plan["engine"].get("blocked_after", 120.0))
    since: float | None = None  # when the environment first failed this take (recorded step outputs only)
    for _ in range(MAX_SUBMIT_RETRIES):
        sub = await start_take(plan, stage, take_no, parent_take_id)
        if sub["outcome"] != "retry":
            break
        if "at" in sub:
            since = since if since is not None else float(sub["at"])
            if float(sub["at"]) - since >= blocked_after:
                break
        await DBOS.sleep_async(min(60.0, float(sub.get("retry_after") or 5.0), max(0.5, blocked_after / 4)))
    if sub["outcome"] == "retry":  # the environment did not come back in time: the take is not used up
        return _blocked_take(sub, take_no, stage, plan)
    take_id = sub["take_id"]
    base = {"take_id": take_id, "take_no": take_no}
    if sub["outcome"] == "blocked":
        return {**base, **sub}
    if sub["outcome"] == "ok":
        return {**base, "outcome": "ok", "sha256": sub["sha256"]}
    if sub["outcome"] != "submitted":
        return {**base, **sub}

    # a take created with a callback is woken by it; polling is then only the fallback, and slow
    interval = (
        fallback_interval(plan["engine"]) if sub.get("hook") else float(plan["engine"]["poll_interval"])
    )
    max_polls = max(1, int(plan["engine"]["poll_timeout"] / interval))
    due = float(sub["accepted_at"]) + interval  # no task is done the moment it is accepted: wait, then ask
    env_since: float | None = None
    for _ in range(max_polls):
        st = await poll_take(plan, take_id, sub, due)
        if st["state"] == "pending":
            due = float(st["at"]) + interval
            if not st.get("env"):
                env_since = None
                continue
            env_since = env_since if env_since is not None else float(st["at"])
            if float(st["at"]) - env_since < blocked_after:
                continue
            # the provider cannot be reached: the task stays submitted (paid) and the next run polls it again
            st = {"state": "blocked", "failure_class": st["env"], "reason": st.get("note", "")}
        if st["state"] == "blocked":
            cls, why, prov = st["failure_class"], st["reason"], sub["provider"]
            detail = blocked_detail(cls, prov, why)
            return {**base, "outcome": "blocked", "failure_class": cls, "reason": why, "detail": detail}
        if st["state"] == "downloaded":
            return {**base, "outcome": "ok", "sha256": st["sha256"]}
        outcome = "stop" if st["state"] == "stop" else "failed"
        return {**base, "outcome": outcome, "failure_class": st["failure_class"], "reason": st["reason"]}
    return {
        **base,
        "outcome": "failed",
        "failure_class": "timeout",
        "reason": "the task did not finish in time",
    }


async def _take(plan: dict[str, Any], stage: str, take_no: int, parent: int | None) -> dict[str, Any]:
    provider = plan["stills"]["provider"] if stage == "still" else plan["video"]["provider"]
    queue = await DBOS.retrieve_queue_async(queue_name(provider))
    assert queue is not None, f"queue {queue_name(provider)} is not registered"
    with SetWorkflowID(f"{DBOS.workflow_id}/{stage}/{take_no}"):
        handle = await queue.enqueue_async(paid_take, plan, stage, take_no, parent)
    result: dict[str, Any] = await await_workflow(handle)
    return result


@DBOS.workflow()
async def shot_workflow(plan: dict[str, Any]) -> dict[str, Any]:
    """still -> image gate -> (re-roll with a new seed on reject) -> image-to-video -> clip check."""
    announce_end()
    failures: list[str] = []

    async def finish(status: str, stage: str, detail: str | None = None, **ids: Any) -> dict[str, Any]:
        await set_shot_state(plan, status=status, stage=stage, detail=detail, **ids)
        return {"shot": plan["shot"]["id"], "status": status, "stage": stage, "detail": detail, **ids}

    await set_shot_state(plan, status="running", stage="still", detail=None)
    still: dict[str, Any] | None = None
    for n in range(1, plan["stills"]["max_takes"] + 1):
        if plan.get("only") == "clips":
            prep = await prepare_take(plan, "still", n, None)
            if prep["state"] != "downloaded":
                return await finish(
                    "failed", "still", "--only clips: no accepted still yet (run --only stills first)"
                )
        res = await _take(plan, "still", n, None)
        if res["outcome"] == "blocked":
            return await finish("blocked", "still", res["detail"])
        if res["outcome"] == "stop":
            return await finish("stopped", "still", f"{res['failure_class']}: {res['reason']}")
        if res["outcome"] != "ok":
            failures.append(f"still take {n}: {res.get('failure_class')}: {res.get('reason')}")
            if res.get("failure_class") in RETAKE_CLASSES:
                continue
            return await finish("failed", "still", failures[-1])
        verdict = await gate_still(plan, res["take_id"], n)  # also moves the shot to video, or back
        if verdict["verdict"] != "reject":
            still = res
            break
        failures.append(verdict["detail"])
    if still is None:
        return await finish(
            "failed",
            "gate",
            f"no still passed after {plan['stills']['max_takes']} takes: " + " | ".join(failures),
        )
    if plan.get("only") == "stills":
        return await finish("stills_done", "gate", None, still_take_id=still["take_id"])

    for n in range(1, plan["video"]["max_takes"] + 1):
        res = await _take(plan, "clip", n, still["take_id"])
        if res["outcome"] == "blocked":
            return await finish("blocked", "video", res["detail"], still_take_id=still["take_id"])
        if res["outcome"] == "stop":
            return await finish(
                "stopped", "video", f"{res['failure_class']}: {res['reason']}", still_take_id=still["take_id"]
            )
        if res["outcome"] != "ok":
            failures.append(f"clip take {n}: {res.get('failure_class')}: {res.get('reason')}")
            if res.get("failure_class") in RETAKE_CLASSES:
                continue
            return await finish("failed", "video", failures[-1], still_take_id=still["take_id"])
        verdict = await check_clip_take(plan, res["take_id"], n, still["take_id"])  # a pass marks it done
        if verdict["verdict"] != "reject":
            ids = {"still_take_id": still["take_id"], "clip_take_id": res["take_id"]}
            return {"shot": plan["shot"]["id"], "status": "done", "stage": "done", "detail": None, **ids}
        failures.append(verdict["detail"])
        if plan["qc"].get("on_reject") == "review" and verdict.get("by") != "review":
            # the project's policy: a person looks at the clip the check rejected before more is spent
            return await finish("needs_review", "qc", verdict["detail"], still_take_id=still["take_id"])
    return await finish(
        "failed",
        "qc",
        f"no clip passed after {plan['video']['max_takes']} takes: " + " | ".join(failures),
        still_take_id=still["take_id"],
    )
