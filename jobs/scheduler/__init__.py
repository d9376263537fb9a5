"""The scheduler behind ``manage.py runscheduler``.

- ``lock``: who leads (file ``flock`` or a database advisory/named lock).
- ``trigger``: an APScheduler trigger that asks ``jobs.cron`` (cronsim) for fire times.
- ``engine``: the APScheduler instances, the dispatch executor, catch-up and missed runs.
- ``reconcile``: the database is the truth; diff it against the engine.
- ``heartbeat``: the ``SchedulerState`` row the web app reads (status, resync).
- ``maintenance``: internal jobs (end-date rules, pruning).
- ``metrics``: Prometheus exposition.
- ``runner``: standby → leader → drain, the loop the command runs.
"""
