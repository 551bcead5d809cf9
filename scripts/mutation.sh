#!/usr/bin/env bash
# Mutation testing of the money-critical code (see docs/mutation.md).
#
#   scripts/mutation.sh [GROUP...]      GROUP: core http takes steps (default: all four, in that order)
#
# Each group is run in its own copy of the working tree under $MUTATION_DIR (default
# /tmp/goldenchain-mutation): the mutation tool rewrites source files, so it never runs in the checkout.
# Each group mutates only the named modules (and, for http/takes/steps, only the named functions) and runs
# only the focused tests listed below. Results: $MUTATION_DIR/<group>/results.txt (one line per mutant) and
# a per-module score on stdout. Exit status 1 when any mutant survived.
#
# Environment: MUTATION_DIR, MUTATION_CHILDREN (parallel mutants, default 2), PYTHON (default .venv/bin/python).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PYTHON")
WORK=${MUTATION_DIR:-/tmp/goldenchain-mutation}
CHILDREN=${MUTATION_CHILDREN:-2}

if ! "$PYTHON" -c "import mutmut" 2>/dev/null; then
    echo "mutation.sh: mutmut is not installed (pip install -e '.[dev]')" >&2
    exit 2
fi

# group -> modules to mutate | mutant-name filters (fnmatch; empty: every function) | tests to run
group_modules() {
    case $1 in
    core) echo "src/goldenchain/core/retry.py src/goldenchain/core/money.py" ;;
    http) echo "src/goldenchain/providers/http.py" ;;
    takes) echo "src/goldenchain/store/takes.py" ;;
    steps) echo "src/goldenchain/orchestration/steps.py" ;;
    *) return 1 ;;
    esac
}
group_filters() {
    case $1 in
    core) echo "" ;;
    # the create path: send_create and everything it calls
    http) echo "goldenchain.providers.http.x_send_create__mutmut_* goldenchain.providers.http.x_classify__mutmut_*
        goldenchain.providers.http.x_response_outcome__mutmut_* goldenchain.providers.http.x_parse_retry_after__mutmut_*
        goldenchain.providers.http.x_scrub__mutmut_* goldenchain.providers.http.x__factory__mutmut_*
        goldenchain.providers.http.x__wait__mutmut_* goldenchain.providers.http.x__too_long__mutmut_*" ;;
    takes) echo "goldenchain.store.takes.xǁTakeLedgerǁbegin_submit__mutmut_* goldenchain.store.takes.xǁTakeLedgerǁrecord_*" ;;
    # every function of the module (the engine's steps are thin wrappers of _start/_poll, which are mutated)
    steps) echo "" ;;
    esac
}
group_tests() {
    case $1 in
    core) echo "tests/unit/test_money.py tests/unit/test_core.py tests/unit/test_retry.py tests/unit/test_money_edges.py" ;;
    http) echo "tests/providers/test_provider_http.py tests/providers/test_transport.py tests/providers/test_http_create_path.py" ;;
    takes) echo "tests/unit/test_ledger.py tests/unit/test_ledger_records.py tests/integration/test_budget_race.py" ;;
    steps) echo "tests/unit/test_steps.py" ;;
    esac
}

run_group() {
    local group=$1 dir=$WORK/$1
    local modules filters tests
    modules=$(group_modules "$group") || {
        echo "mutation.sh: unknown group '$group' (core, http, takes, steps)" >&2
        exit 2
    }
    filters=$(group_filters "$group")
    tests=$(group_tests "$group")

    rm -rf "$dir"
    mkdir -p "$dir"
    # the working tree as it is (tracked and untracked, not ignored files), without touching it
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) | "$PYTHON" -c '
import os, shutil, sys
root, dest = sys.argv[1:]
for rel in sys.stdin.buffer.read().decode().split("\0"):
    if rel and os.path.isfile(os.path.join(root, rel)):
        os.makedirs(os.path.dirname(os.path.join(dest, rel)) or dest, exist_ok=True)
        shutil.copy2(os.path.join(root, rel), os.path.join(dest, rel))
' "$ROOT" "$dir"
    # only the focused test files that exist in this tree
    local t existing=""
    for t in $tests; do [ -e "$dir/$t" ] && existing="$existing $t"; done
    tests=$existing
    # the tool reads [mutmut] from setup.cfg only when pyproject.toml has no [tool.mutmut]
    {
        echo "[mutmut]"
        echo "source_paths = src"
        echo "only_mutate ="
        for m in $modules; do echo "    $m"; done
        echo "pytest_add_cli_args = -p no:randomly -p no:cacheprovider -q"
        echo "pytest_add_cli_args_test_selection ="
        for t in $tests; do echo "    $t"; done
        echo "also_copy = docs"  # tests/faults checks docs/fault-matrix.md against the matrix
        echo "use_git_change_detection = false"
        echo "track_dependencies = false"
    } >"$dir/setup.cfg"

    echo "== $group: mutating $modules with $tests" >&2
    local rc=0
    # tests import the mutated copy: the tool puts mutants/src first on sys.path; PYTHONPATH does the same for
    # any subprocess a test starts (the editable install points at the checkout's src otherwise)
    mkdir -p "$dir/mutants/src" # it must exist when the interpreter starts, or the path entry is useless
    (cd "$dir" && PYTHONPATH="$dir/mutants/src" PATH="$BIN:$PATH" "$BIN/mutmut" run --max-children "$CHILDREN" $filters) \
        >"$dir/run.log" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
        echo "mutation.sh: mutmut run failed for $group (exit $rc), see $dir/run.log" >&2
        tail -20 "$dir/run.log" >&2
        return 1
    fi
    (cd "$dir" && "$BIN/mutmut" results --all true) >"$dir/results.txt"
    summarise "$dir/results.txt" "$filters"
}

# results.txt lines: "    goldenchain.core.money.x_burn_rate__mutmut_3: killed"
summarise() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import fnmatch, sys
from collections import Counter, defaultdict

path, filters = sys.argv[1], sys.argv[2].split()
per_module: dict[str, Counter[str]] = defaultdict(Counter)
survivors = []
for line in open(path, encoding="utf-8"):
    if ":" not in line:
        continue
    name, status = (s.strip() for s in line.rsplit(":", 1))
    if filters and not any(fnmatch.fnmatch(name, f) for f in filters):
        continue
    module = name.rsplit(".", 1)[0]
    per_module[module][status] += 1
    if status != "killed":
        survivors.append(f"{name}: {status}")
for module, c in sorted(per_module.items()):
    total = sum(c.values())
    killed = c["killed"] + c["timeout"]
    print(f"{module}: {killed}/{total} killed ({100 * killed / total:.1f} %)  {dict(c)}")
for s in survivors:
    print(f"  {s}")
sys.exit(1 if survivors else 0)
EOF
}

status=0
for g in "${@:-core http takes steps}"; do
    for group in $g; do
        run_group "$group" || status=1
    done
done
exit $status
