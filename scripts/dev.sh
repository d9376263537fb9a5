#!/usr/bin/env bash
# One command from a fresh clone to a running cronhub on SQLite:
# virtualenv, install, migrate, development admin (admin/admin123), web app on
# http://127.0.0.1:8000 and the scheduler beside it. Ctrl-C stops both.
source "$(dirname "$0")/_venv.sh"
ensure_venv requirements.txt

export DEBUG="${DEBUG:-true}"
export ALLOW_DEFAULT_ADMIN="${ALLOW_DEFAULT_ADMIN:-true}"
# HOST and PORT as the app reads them: the environment, else .env, else 127.0.0.1:8000.
setting() { .venv/bin/python -c 'import sys; from cronhub import settings; print(getattr(settings, sys.argv[1]))' "$1"; }
HOST="$(setting HOST)"
PORT="$(setting PORT)"

.venv/bin/python manage.py migrate --noinput
# The compiled catalogue is committed; recompile it when gettext is there (an edited .po).
if command -v msgfmt >/dev/null 2>&1; then .venv/bin/python manage.py compilemessages -l ja --ignore=.venv -v 0; fi
# Static files for whitenoise (needed when DEBUG is off; cheap when nothing changed).
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py create_admin

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait; }
trap cleanup EXIT INT TERM

if .venv/bin/python manage.py help runscheduler >/dev/null 2>&1; then
  .venv/bin/python manage.py runscheduler &
  pids+=($!)
fi
.venv/bin/python manage.py runserver "$HOST:$PORT" &
pids+=($!)
echo "cronhub: http://$HOST:$PORT/admin/ (admin / admin123), API at http://$HOST:$PORT/api/v2/"
wait -n "${pids[@]}"
