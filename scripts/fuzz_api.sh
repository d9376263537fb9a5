#!/usr/bin/env bash
# Fuzz the API with schemathesis against its own OpenAPI document.
#
# Starts gunicorn on a free 127.0.0.1 port with a throwaway SQLite database (or the
# database named by FUZZ_DATABASE_URL) and an admin, seeds a second user, an API token, a PIC team,
# a category, a job, an execution and a notification, then runs schemathesis with
# the admin's bearer token over every operation. Id parameters (job_id,
# execution_id, user_id, notification_id, category_id, team_id, token_id) are the seeded ids
# in half of the cases and generated text in the other half, so the id-based
# operations reach their real work as well as their 404s. Stops the server and
# deletes the database at the end. Fails (exit != 0) on any 5xx or any response
# that does not match the documented schema. One worker: hypothesis trips over
# itself in schemathesis's threads ("AST constructor recursion depth mismatch").
# GitHub calls and the seeded job's webhook go to closed local ports; every outbound
# call (fuzzed test-run targets too) is bounded by 2-second timeouts.
#
#   bash scripts/fuzz_api.sh                      # every operation
#   FUZZ_MAX_EXAMPLES=200 bash scripts/fuzz_api.sh
#   FUZZ_PATHS='^/api/v2/jobs' bash scripts/fuzz_api.sh -n 20   # extra args go to schemathesis
#   FUZZ_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cronhub_fuzz bash scripts/fuzz_api.sh
#     (that database is dropped and created afresh, and a PostgreSQL one dropped at the end:
#     never point it at real data)
#
# Last full runs (2026-12-02; schemathesis 4.32.5, seed 20251218, FUZZ_MAX_EXAMPLES=50, phases
# coverage + fuzzing + stateful), 65 operations (API tokens, job history and export, the GitHub
# webhook and the health checks included) then the self-demotion one:
#   SQLite:     4399 + 115 cases, 0 server errors, 0 schema failures
#   PostgreSQL: 4411 + 115 cases, 0 server errors, 0 schema failures
# (The self-demotion run ends in 401s once a case has deactivated the admin: expected.)
source "$(dirname "$0")/_venv.sh"
ensure_venv requirements-dev.txt

PATHS="${FUZZ_PATHS:-^/api/v2/}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-50}"
SEED="${FUZZ_SEED:-20251218}"
CHECKS="${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,missing_required_header,unsupported_method,use_after_free,ensure_resource_availability,ignored_auth}"
EXTRA_ARGS=("$@")

workdir="$(mktemp -d)"
server_pid=""
scheduler_pid=""
cleanup() {
  for pid in $server_pid $scheduler_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [[ "${FUZZ_DATABASE_URL:-}" == postgres* ]]; then
    .venv/bin/python - "$FUZZ_DATABASE_URL" <<'PY' || true
import sys
from urllib.parse import urlsplit
import psycopg
parts = urlsplit(sys.argv[1])
with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
PY
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

export CRONHUB_READ_DOT_ENV=false
export DEBUG=false TESTING=false
export SECRET_KEY="fuzz-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export DATABASE_URL="${FUZZ_DATABASE_URL:-sqlite:///$workdir/fuzz.db}"
export ALLOWED_HOSTS=127.0.0.1
export LOGIN_THROTTLE_ENABLED=false   # reach the credential checks, not the 429s
export SCHEDULER_LOCK_PATH="$workdir/scheduler.lock"
export LOG_LEVEL=error               # the fuzzer causes thousands of expected 4xx
closed_port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export GITHUB_API_URL="http://127.0.0.1:$closed_port" GITHUB_TOKEN=fuzz
export GITHUB_WEBHOOK_SECRET="fuzz-webhook-secret"  # configured, as deployed: unsigned deliveries are 401s
export OUTBOUND_CONNECT_TIMEOUT=2 OUTBOUND_READ_TIMEOUT=2
export MAIL_ENABLED=false

case "${FUZZ_DATABASE_URL:-}" in  # a fresh, empty database (the same helper as CI)
  postgres*) .venv/bin/python scripts/ci_databases.py postgres "$FUZZ_DATABASE_URL" >/dev/null ;;
  mysql*) .venv/bin/python scripts/ci_databases.py mysql "$FUZZ_DATABASE_URL" >/dev/null ;;
esac
.venv/bin/python manage.py migrate --noinput >/dev/null
seed="$(.venv/bin/python manage.py shell -v 0 -c "
from accounts.api_tokens import api_token_create
from accounts.services import admin_ensure
from cronhub.testing.auth import access_token_for
from cronhub.testing.factories import (JobCategoryFactory, JobExecutionFactory, JobFactory,
                                       NotificationFactory, PicTeamFactory, UserFactory)
admin = admin_ensure(username='fuzzadmin', email='fuzzadmin@example.com', password='fuzz-secret').user
other = UserFactory(username='fuzzuser', email='fuzzuser@example.com')
team = PicTeamFactory(name='Fuzz Team', slug='fuzz-team')
category = JobCategoryFactory(name='Fuzz Category', slug='fuzz-category')
job = JobFactory(name='fuzz-job', created_by=admin, pic_team=team.slug, category=category.slug,
                 target_url='http://127.0.0.1:$closed_port/hook')
execution = JobExecutionFactory(job=job)
notice = NotificationFactory(user=admin, related_job_id=job.id)
api_token, _secret = api_token_create(user=admin, name='fuzz token')
print('TOKEN=' + access_token_for(admin))
for name, value in (('job', job.id), ('execution', execution.id), ('user', other.id),
                    ('notification', notice.id), ('category', category.id), ('team', team.id),
                    ('token', api_token.id)):
    print(f'ID_{name}={value}')
")"
token="$(sed -n 's/^TOKEN=//p' <<<"$seed")"
id_of() { sed -n "s/^ID_$1=//p" <<<"$seed"; }
# Seeded ids for half of the id parameters (schemathesis "dictionaries").
cat > "$workdir/schemathesis.toml" <<TOML
[dictionaries.jobs]
values = ["$(id_of job)"]
[dictionaries.executions]
values = ["$(id_of execution)"]
[dictionaries.users]
values = ["$(id_of user)"]
[dictionaries.notifications]
values = ["$(id_of notification)"]
[dictionaries.categories]
values = ["$(id_of category)"]
[dictionaries.teams]
values = ["$(id_of team)"]
[dictionaries.tokens]
values = ["$(id_of token)"]

[parameters]
"path.job_id" = { dictionary = "jobs", probability = 0.5 }
"query.job_id" = { dictionary = "jobs", probability = 0.5 }
"path.execution_id" = { dictionary = "executions", probability = 0.5 }
"path.user_id" = { dictionary = "users", probability = 0.5 }
"path.notification_id" = { dictionary = "notifications", probability = 0.5 }
"path.category_id" = { dictionary = "categories", probability = 0.5 }
"path.team_id" = { dictionary = "teams", probability = 0.5 }
"path.token_id" = { dictionary = "tokens", probability = 0.5 }
TOML

port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# A scheduler too, as deployed (so /health/scheduler answers for a running one, and the runs
# the fuzzer starts meet a leader); its log goes to the work directory.
.venv/bin/python manage.py runscheduler >"$workdir/scheduler.log" 2>&1 &
scheduler_pid=$!
.venv/bin/gunicorn cronhub.wsgi -b "127.0.0.1:$port" -w 2 --log-level warning &
server_pid=$!
.venv/bin/python - "$port" <<'PY'
import sys, time, urllib.request
for probe in ("health", "health/scheduler"):  # the web server, then a scheduler leading
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v2/{probe}", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit(f"/api/v2/{probe} did not answer 200")
PY

# The contract reads JSON booleans by truthiness and ignores falsy optional fields,
# so "schema-violating request accepted" (negative_data_rejection) is expected and
# not checked by default; every check about the responses is.
run_schemathesis() {
  .venv/bin/schemathesis --config-file "$workdir/schemathesis.toml" run "http://127.0.0.1:$port/api/v2/openapi.json" \
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
