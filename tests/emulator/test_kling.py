from __future__ import annotations

import io
import time

import av
import httpx
import pytest

from goldenchain.emulator import Emulator

from .conftest import HeldClock, kling_client, kling_token, wait_kling


def _body(still: str, **extra: object) -> dict:
    return {"model_name": "kling-v1-5", "image": still, "prompt": "slow push-in", "mode": "pro", "duration": "5",
            **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, 1001),
        ("Token abc", 1002),
        ("Bearer not.a.jwt", 1002),
        ("BADSIG", 1002),
        ("NBF", 1003),
        ("EXP", 1004),
    ],
)
def test_jwt_auth_codes(clean: Emulator, header: str | None, code: int) -> None:
    env = clean.env()
    if header == "BADSIG":
        header = "Bearer " + kling_token(env, secret="wrong-secret-0123456789abcdef0123456789")
    elif header == "NBF":
        header = "Bearer " + kling_token(env, nbf=120)
    elif header == "EXP":
        header = "Bearer " + kling_token(env, nbf=-4000, exp=-10)
    headers = {"Authorization": header} if header else {}
    r = httpx.get(f"{env['KLING_BASE_URL']}/v1/videos/image2video", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == code
    assert r.json()["request_id"]


def test_wrong_issuer_rejected(clean: Emulator) -> None:
    env = dict(clean.env(), KLING_ACCESS_KEY="someone-else")
    r = httpx.get(f"{env['KLING_BASE_URL']}/v1/videos/image2video",
                  headers={"Authorization": "Bearer " + kling_token(env)})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (401, 1002)


def test_image2video_lifecycle_and_clip(clean: Emulator, still_b64: str) -> None:
    clock = HeldClock(clean)
    with kling_client(clean) as c:
        r = c.post("/v1/videos/image2video", json=_body(still_b64, external_task_id="shot-1",
                   camera_control={"type": "simple", "config": {"horizontal": 5}}))  # fmt: skip
        assert r.status_code == 200, r.text
        env = r.json()
        assert env["code"] == 0 and env["message"] == "SUCCEED" and env["request_id"]
        data = env["data"]
        assert isinstance(data["task_id"], str) and data["task_status"] == "submitted"
        assert data["task_info"] == {"external_task_id": "shot-1"}
        assert data["created_at"] > 1_600_000_000_000  # ms
        seen = []
        for step in (0.0, clean.latency / 6, clean.latency / 3, clean.latency / 3, clean.latency / 3):
            clock.advance(step)  # 0, 1/6, 1/2, 5/6 and 7/6 of the latency after acceptance
            seen.append(c.get(f"/v1/videos/image2video/{data['task_id']}").json()["data"])
        assert [d["task_status"] for d in seen] == [
            "submitted",
            "submitted",
            "processing",
            "processing",
            "succeed",
        ]
        assert seen[2]["updated_at"] == seen[3]["updated_at"]  # processing since 1/3 of the latency (in ms)
        assert abs(seen[2]["updated_at"] - data["created_at"] - clean.latency / 3 * 1000) <= 1
        d = seen[-1]
        assert d["final_unit_deduction"] == "3.5"
        video = d["task_result"]["videos"][0]
        assert video["duration"] == "5" and video["id"]
        by_ext = c.get("/v1/videos/image2video", params={"external_task_id": "shot-1"}).json()["data"]
        assert by_ext["task_id"] == data["task_id"]
        clip = httpx.get(video["url"], timeout=60)
        assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(clip.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (1920, 1080)
        assert stream.average_rate == 24
        frames = sum(1 for _ in container.decode(stream))
    assert frames == 120
    assert clean.count(provider="kling", accepted_creates=True) == 1


def test_duplicate_external_id_and_not_found(clean: Emulator, still_b64: str) -> None:
    with kling_client(clean) as c:
        assert (
            c.post("/v1/videos/image2video", json=_body(still_b64, external_task_id="dup")).status_code == 200
        )
        r = c.post("/v1/videos/image2video", json=_body(still_b64, external_task_id="dup"))
        assert (r.status_code, r.json()["code"]) == (400, 1201)
        r = c.get("/v1/videos/image2video", params={"external_task_id": "never-sent"})
        assert r.status_code == 404
    assert clean.count(provider="kling", accepted_creates=True) == 1


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"duration": 5}, 400, 1201),
        ({"duration": "7"}, 400, 1201),
        ({"mode": "ultra"}, 400, 1201),
        ({"cfg_scale": 1.5}, 400, 1201),
        ({"camera_control": {"type": "simple", "config": {"horizontal": 5, "zoom": 2}}}, 400, 1201),
        ({"camera_control": {"type": "simple", "config": {"zoom": 11}}}, 400, 1201),
        ({"camera_control": {"type": "down_back", "config": {"zoom": 1}}}, 400, 1201),
        ({"camera_control": {"type": "simple", "config": {"zoom": 3}}, "image_tail": "abc"}, 400, 1201),
        ({"prompt": "x" * 2501}, 400, 1201),
        ({"model_name": "kling-v9"}, 404, 1203),
        ({"image": None}, 400, 1201),
        ({"image": "data:image/png;base64,AAAA"}, 400, 1201),
        ({"image": "https://example.com/a.png"}, 400, 1201),
    ],
)
def test_validation(clean: Emulator, still_b64: str, extra: dict, status: int, code: int) -> None:
    with kling_client(clean) as c:
        r = c.post("/v1/videos/image2video", json=_body(still_b64, **extra))
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert clean.count(provider="kling", accepted_creates=True) == 0


def test_text2video_list_and_costs(clean: Emulator) -> None:
    with kling_client(clean) as c:
        ids = []
        for i in range(3):
            r = c.post("/v1/videos/text2video", json={"model_name": "kling-v1-6", "prompt": f"a boat {i}",
                                                      "aspect_ratio": "9:16", "external_task_id": f"t{i}"})  # fmt: skip
            ids.append(r.json()["data"]["task_id"])
        page = c.get("/v1/videos/text2video", params={"pageNum": 1, "pageSize": 2}).json()["data"]
        assert [t["task_id"] for t in page] == [ids[2], ids[1]]
        assert c.get("/v1/videos/text2video", params={"pageSize": 501}).status_code == 400
        done = wait_kling(c, ids[0], "text2video")
        assert done["final_unit_deduction"] == "2"  # kling-v1-6 std 5 s
        now = int(time.time() * 1000)
        costs = c.get("/account/costs", params={"start_time": now - 60_000, "end_time": now + 60_000}).json()
        pack = costs["data"]["resource_pack_subscribe_infos"][0]
        assert pack["total_quantity"] - pack["remaining_quantity"] >= 2
        clip = httpx.get(done["task_result"]["videos"][0]["url"], timeout=60).content
    with av.open(io.BytesIO(clip)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.width, ctx.height) == (720, 1280)
