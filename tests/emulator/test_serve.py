from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx


def test_serve_prints_exports_and_stops_on_sigterm(tmp_path) -> None:
    log = tmp_path / "log.jsonl"
    code = ("from goldenchain.emulator import serve; "
            f"serve('127.0.0.1', 0, 'clean', 0.1, {str(log)!r})")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        env = {}
        assert proc.stdout is not None
        while len(env) < 10:
            line = proc.stdout.readline()
            assert line.startswith("export "), line
            name, _, value = line[len("export ") :].strip().partition("=")
            env[name] = value
        assert set(env) >= {"KLING_BASE_URL", "KLING_ACCESS_KEY", "KLING_SECRET_KEY", "FAL_KEY", "FAL_QUEUE_URL",
                            "FAL_RUN_URL", "REPLICATE_BASE_URL", "REPLICATE_API_TOKEN", "TOGETHER_BASE_URL",
                            "TOGETHER_API_KEY"}  # fmt: skip
        assert env["KLING_BASE_URL"].startswith("http://127.0.0.1:") and env["KLING_BASE_URL"].endswith(
            "/kling"
        )
        r = httpx.post(env["FAL_RUN_URL"] + "/fal-ai/flux/schnell", json={"prompt": "x"},
                       headers={"Authorization": f"Key {env['FAL_KEY']}"}, timeout=60)  # fmt: skip
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert '"provider":"fal"' in log.read_text()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            time.sleep(0.1)
