"""Throw-away databases on the local PostgreSQL and MariaDB servers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pymysql

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
MARIADB_HOST = os.environ.get("TEST_MARIADB_HOST", "127.0.0.1")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@contextmanager
def postgres_database(prefix: str = "ecoin_test") -> Iterator[str]:
    name = unique_name(prefix)
    with psycopg.connect(host=PG_HOST, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}"
    finally:
        with psycopg.connect(host=PG_HOST, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def mariadb_database(prefix: str = "legacy_test") -> Iterator[str]:
    name = unique_name(prefix)
    conn = pymysql.connect(host=MARIADB_HOST, user="root", password="")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield f"mysql+pymysql://root@{MARIADB_HOST}:3306/{name}?charset=utf8mb4"
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()
