"""cronhub: a self-hosted cron hub for teams (Django project package)."""

try:  # mysqlclient when it is installed (it needs C headers) ...
    import MySQLdb  # noqa: F401
except ImportError:  # ... else PyMySQL, pure Python, shipped in requirements.txt
    import pymysql

    pymysql.install_as_MySQLdb()
