#!/usr/bin/env bash
# Fuzz the API with schemathesis against its own OpenAPI document.
#
# Starts gunicorn on a free 127.0.0.1 port with a throwaway SQLite database and
# an admin, runs schemathesis with the admin's bearer token over the selected
# operations, then stops the server and deletes the database. Fails (exit != 0)
# on any 5xx or any response that does not match the documented schema. One
# worker: hypothesis trips over itself in schemathesis's threads ("AST constructor
# recursion depth mismatch").
#
#   bash scripts/fuzz_api.sh                      # auth, users, preferences, taxonomy, Slack, health
#   FUZZ_MAX_EXAMPLES=200 bash scripts/fuzz_api.sh
#   FUZZ_PATHS='^/api/v2/jobs' bash scripts/fuzz_api.sh -n 20   # extra args go to schemathesis
source "$(dirname "$0")/_venv.sh"
ensure_venv requirements-dev.txt

PATHS="${FUZZ_PATHS:-^/api/v2/(health|auth/|job-categories|pic-teams|settings/slack)}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-50}"
SEED="${FUZZ_SEED:-20251218}"
CHECKS="${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,missing_required_header,unsupported_method,use_after_free,ensure_resource_availability,ignored_auth}"
EXTRA_ARGS=("$@")

workdir="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

export CRONHUB_READ_DOT_ENV=false
export DEBUG=false TESTING=false
export SECRET_KEY="fuzz-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export DATABASE_URL="sqlite:///$workdir/fuzz.db"
export ALLOWED_HOSTS=127.0.0.1
export LOGIN_THROTTLE_ENABLED=false   # reach the credential checks, not the 429s
export SCHEDULER_LOCK_PATH="$workdir/scheduler.lock"
export LOG_LEVEL=error               # the fuzzer causes thousands of expected 4xx

.venv/bin/python manage.py migrate --noinput >/dev/null
token="$(.venv/bin/python manage.py shell -v 0 -c '
from accounts.services import admin_ensure
from cronhub.testing.auth import access_token_for
result = admin_ensure(username="fuzzadmin", email="fuzzadmin@example.com", password="fuzz-secret")
print("TOKEN=" + access_token_for(result.user))
' | sed -n 's/^TOKEN=//p')"

port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
.venv/bin/gunicorn cronhub.wsgi -b "127.0.0.1:$port" -w 2 --log-level warning &
server_pid=$!
.venv/bin/python - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v2/health", timeout=2)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the server did not start")
PY

# The contract reads JSON booleans by truthiness and ignores falsy optional fields,
# so "schema-violating request accepted" (negative_data_rejection) is expected and
# not checked by default; every check about the responses is.
run_schemathesis() {
  .venv/bin/schemathesis run "http://127.0.0.1:$port/api/v2/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$CHECKS" \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --workers 1 --request-timeout 30 \
    "$@"
}
# The contract lets an admin demote or deactivate themself: fuzzing that operation
# would lock the fuzzer out, so it runs last, on its own.
SELF_HARM=api_v2_auth_users_update
status=0
run_schemathesis --include-path-regex "$PATHS" --exclude-operation-id "$SELF_HARM" "${EXTRA_ARGS[@]}" || status=$?
if [[ "/api/v2/auth/users/x" =~ $PATHS ]]; then
  run_schemathesis --include-operation-id "$SELF_HARM" "${EXTRA_ARGS[@]}" || status=$?
fi
exit $status
