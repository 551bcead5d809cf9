from __future__ import annotations

import pytest

from goldenchain.core.checks import Check, CheckReport, worst_verdict
from goldenchain.core.keys import canonical_hash, take_key
from goldenchain.core.pricing import UnknownPrice, actual_usd, clip_price, still_price


def test_take_key_is_deterministic_and_input_sensitive() -> None:
    a = take_key("p", "s01", "still", 1, {"seed": 1})
    assert a == take_key("p", "s01", "still", 1, {"seed": 1})
    assert a != take_key("p", "s01", "still", 2, {"seed": 1})
    assert a != take_key("p", "s01", "still", 1, {"seed": 2})
    assert a.startswith("gc-") and len(a) == 35
    assert canonical_hash({"b": 1, "a": 2}) == canonical_hash({"a": 2, "b": 1})


def test_prices() -> None:
    assert clip_price("kling", "kling-v1-5", "pro", 5).usd == pytest.approx(0.49)
    assert clip_price("kling", "kling-v1-5", "pro", 5).credits == 3.5
    assert clip_price("kling", "kling-v2-5-turbo", "pro", 10).usd == pytest.approx(0.7)
    assert still_price("fal", "fal-ai/flux/dev", 1824, 1024).usd == pytest.approx(0.05)  # 1.87 MP -> 2 MP
    assert still_price("fal", "fal-ai/flux/dev", 1000, 1000).usd == pytest.approx(0.025)
    assert still_price("fal", "fal-ai/flux/dev", 1000, 1000, {"fal:fal-ai/flux/dev": 0.01}).usd == 0.01
    with pytest.raises(UnknownPrice):
        clip_price("kling", "kling-v9", "pro", 5)
    assert actual_usd("kling", 3.5, "credits", 0.1) == (pytest.approx(0.49), 3.5)
    assert actual_usd("kling", None, None, 0.1) == (0.1, None)


def test_report_combination() -> None:
    ok = Check("blur", "pass", 0.3, 0.19, "lower_is_worse", "sharp")
    bad = Check("exposure", "reject", 0.1, 0.32, "lower_is_worse", "too dark")
    assert CheckReport.combine([ok, bad]) == "reject"
    r = CheckReport("a.png", "reject", 0.1, [ok, bad])
    assert r.reasons == ["exposure: too dark"]
    assert r.to_json()["checks"][1]["name"] == "exposure"
    assert worst_verdict(["pass", "warn", "error"]) == "error"


def test_catalog_has_source_and_date_for_every_price() -> None:
    from goldenchain.core.pricing import CATALOG_VERSION, catalog

    entries = catalog()
    keys = {e.key for e in entries}
    assert "kling:kling-v1-5:pro:5" in keys and "fal:fal-ai/flux/dev" in keys
    assert all(e.source and e.date == CATALOG_VERSION and e.usd > 0 for e in entries)
    k = next(e for e in entries if e.key == "kling:kling-v1-5:pro:5")
    assert k.usd == clip_price("kling", "kling-v1-5", "pro", 5).usd
