#!/usr/bin/env bash
# Runs the whole test suite (SQLite by default; DATABASE_URL picks another
# database) in TEST_WORKERS parallel processes (pytest-xdist; default 2, the
# machine's cores in CI; 0 runs in this process). Extra arguments go to pytest,
# e.g. `bash scripts/test.sh -k cron`.
source "$(dirname "$0")/_venv.sh"
ensure_venv requirements-dev.txt
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" "$@"
