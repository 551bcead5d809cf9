"""The engine's database and queue sizing (no workflow runs here)."""

from __future__ import annotations

from pathlib import Path

from goldenchain.orchestration.engine import shot_slots, system_database_url


def test_sqlite_engine_tables_share_the_ledger_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert system_database_url(url) == url


def test_postgres_engine_shares_the_ledger_database() -> None:
    assert system_database_url("postgres://u@h/db") == "postgresql://u@h/db"
    assert system_database_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_shot_slots_default_to_one_and_a_half_times_the_provider_slots() -> None:
    assert shot_slots([50, 50], None) == 150
    assert shot_slots([4, 3], None) == 11
    assert shot_slots([1], None) == 4  # never fewer than four
    assert shot_slots([50, 50], 7) == 7  # [engine] shot_concurrency wins
