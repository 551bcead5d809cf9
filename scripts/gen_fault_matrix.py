"""Write docs/fault-matrix.md from a run of the fault matrix: every row of tests/faults/test_fault_matrix.py is
one take through the real take steps (start_take, poll_take) on a SQLite ledger against the emulator, and the
file says what each take did.

Usage: .venv/bin/python scripts/gen_fault_matrix.py [--check]
  --check  run the rows and exit 1 when the file differs from what they did (nothing is written)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.faults.test_fault_matrix import DOC, ROWS, observe, render_matrix  # noqa: E402


def _isolate(home: Path) -> None:
    """As the tests run: user state in a scratch folder, no keys or base URLs from this shell, no plugins."""
    os.environ["GOLDENCHAIN_HOME"] = str(home)
    os.environ["GOLDENCHAIN_LOAD_PLUGINS"] = "0"
    from tests.conftest import ENV_NAMES

    for name in ENV_NAMES:
        os.environ.pop(name, None)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="gc-matrix-") as tmp:
        _isolate(Path(tmp) / "home")
        got = observe(ROWS, Path(tmp) / "rows")
    failed = {rid: g for rid, g in got.items() if isinstance(g, BaseException)}
    for rid, err in failed.items():
        print(f"{rid}: {type(err).__name__}: {err}", file=sys.stderr)
    if failed:
        return 1
    text = render_matrix({rid: g[0].seen for rid, g in got.items() if not isinstance(g, BaseException)})
    if "--check" in argv:
        if DOC.read_text(encoding="utf-8") != text:
            print(
                f"{DOC.relative_to(ROOT)} differs from this run; run scripts/gen_fault_matrix.py",
                file=sys.stderr,
            )
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)} from a run of {len(ROWS)} takes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
