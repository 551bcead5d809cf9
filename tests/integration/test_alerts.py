"""The guide's checklist figures on a real ledger: alerts out of band (printed, `costs --check` exit 1, posted
to a Slack-compatible webhook), cost against the client's fee, break-even on the ledger's own prices."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from goldenchain.emulator import Emulator
from tests.integration.helpers import make_project, run_cli


class _Hook(BaseHTTPRequestHandler):
    got: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        _Hook.got.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_alerts_fee_and_breakeven_from_the_ledger(tmp_path: Path) -> None:
    project = make_project(tmp_path / "shoot", shots=2)
    cfg = project / "goldenchain.toml"
    text = cfg.read_text().replace('client = "example-client"', 'client = "example-client"\nfee_usd = 2.0')
    cfg.write_text(text + "\n[alerts]\nstills_usd_per_day = [0, 0.01]\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.got.clear()
    try:
        with Emulator(host="127.0.0.1", port=0, scenario="clean", latency=0.3) as emu:
            env = {
                **emu.env(),
                "GOLDENCHAIN_ALERT_WEBHOOK": f"http://127.0.0.1:{server.server_address[1]}/hook",
            }
            ran = run_cli(["run", str(project), "--quiet"], env)
            assert ran.returncode == 0, ran.stdout + ran.stderr
            assert "alert: dollars a day on stills" in ran.stderr  # the run warns too
            quiet = run_cli(["costs", str(project), "--json"], env)
            assert quiet.returncode == 0  # without --check an alert is a warning
            s = json.loads(quiet.stdout)
            names = {a["name"] for a in s["alerts"]}
            # $0.09 of stills in a day against a $0.01 band; ~$1 of spend is half of a $2 fee (band: 25 %)
            assert names == {"stills_usd_per_day", "fee_share"}, s["alerts"]
            assert s["fee"]["fee_usd"] == 2.0 and s["fee"]["cost_share_of_fee"] == round(
                s["total_usd"] / 2.0, 4
            )
            assert s["fee"]["delivered_seconds"] == 10.0
            assert s["fee"]["usd_per_delivered_second"] == round(s["total_usd"] / 10.0, 4)
            checked = run_cli(["costs", str(project), "--check"], env)
            assert checked.returncode == 1 and "alert:" in checked.stdout and "fee" in checked.stdout
            assert _Hook.got and "stills" in str(_Hook.got[-1]["text"])
            assert env["GOLDENCHAIN_ALERT_WEBHOOK"] not in checked.stdout + checked.stderr

            be = run_cli(["costs", "breakeven", str(project), "--gpu-usd-per-hour", "2", "--json"], env)
            assert be.returncode == 0, be.stderr
            b = json.loads(be.stdout)
            still_costs = [
                t["cost_usd"] for sh in json.loads((project / "out" / "report.json").read_text())["shots"]
                for t in sh["takes"] if t["stage"] == "still"
            ]  # fmt: skip
            assert b["api_price_from"] == "ledger" and b["stills"] == 2
            assert abs(b["api_usd_per_image"] - sum(still_costs) / 2) < 1e-4
            assert abs(b["breakeven_images_per_hour"] - 2 / b["api_usd_per_image"]) < 0.05
            assert b["busiest_hour_images"] in (1, 2) and b["local_pays_now"] is False
    finally:
        server.shutdown()
