"""Write docs/fault-matrix.md from the fault-matrix test's parameter table (tests/faults/test_fault_matrix.py).

Usage: .venv/bin/python scripts/gen_fault_matrix.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.faults.test_fault_matrix import DOC, render_matrix  # noqa: E402


def main(argv: list[str]) -> int:
    text = render_matrix()
    if "--check" in argv:
        if DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC.relative_to(ROOT)} is stale; run scripts/gen_fault_matrix.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
