"""Create fresh, empty CI databases on the local PostgreSQL and MariaDB servers.

Usage: python scripts/ci_databases.py postgres|mysql URL
Exits 2 with a loud message when the server cannot be reached.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit


def recreate_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP DATABASE IF EXISTS "test_{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\'')


def recreate_mysql(url: str) -> None:
    import pymysql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
                           password=parts.password or "", connect_timeout=5, autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP DATABASE IF EXISTS `test_{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()


def main() -> int:
    kind, url = sys.argv[1], sys.argv[2]
    try:
        {"postgres": recreate_postgres, "mysql": recreate_mysql}[kind](url)
    except Exception as exc:  # any driver error means: not usable here
        print(f"!!! {kind} at {url} is not reachable: {exc}", file=sys.stderr)
        return 2
    print(f"fresh {kind} database ready: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
