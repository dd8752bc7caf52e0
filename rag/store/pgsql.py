"""SQL of the PostgreSQL store: schema, BM25 over full-text search, dense search and hybrid fusion.

Keyword search scores exactly as the embedded store's tantivy does, so both stores rank alike:
each chunk's ``tsv`` holds the tokens of :func:`rag.store.text.tokenize` verbatim (a tsvector
written as a literal, not re-parsed by a text search configuration) with their positions, so
a token's term frequency is the number of its positions; ``norm`` is the chunk's token count
rounded down to tantivy's one-byte field norm (Lucene's scheme); the ``terms`` table holds each
token's document frequency, and ``meta`` the chunk count and token total (the average length).
BM25 (k1 = 1.2, b = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5))) is summed in SQL over the
rows the GIN index finds for the query's tokens.

:func:`hybrid_sql` fuses the dense and keyword lists in the same statement, by the formulas of
:mod:`rag.retrieval` (weighted RRF, or z-score/min-max over each list's deep pool, with the
chunks off a list counting as its last, or as 0 for chunks that share no query term).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from psycopg import sql

K1, B = 1.2, 0.75
_IDENTITY = 24  # field norms below this are exact


@lru_cache(maxsize=1)
def _norm_table() -> tuple[int, ...]:
    """The 256 lengths a one-byte field norm can stand for: exact below 24, then 3 mantissa bits."""
    out = []
    for b in range(256):
        if b < _IDENTITY:
            out.append(b)
            continue
        x = b - _IDENTITY
        bits, shift = x & 7, x >> 3
        out.append(_IDENTITY + (bits if shift == 0 else (bits | 8) << (shift - 1)))
    return tuple(out)


def field_norm(n_tokens: int) -> int:
    """``n_tokens`` rounded down to the nearest length a field norm byte can hold (as tantivy stores it)."""
    import bisect

    table = _norm_table()
    return table[max(0, bisect.bisect_right(table, n_tokens) - 1)]


def _quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(tokens: Sequence[str]) -> str:
    """A tsvector literal holding ``tokens`` as they are, each with its positions (1-based;
    PostgreSQL keeps positions up to 16383 and 256 per token, far above a chunk's length)."""
    positions: dict[str, list[int]] = {}
    for i, t in enumerate(tokens, start=1):
        positions.setdefault(t, []).append(min(i, 16383))
    return " ".join(f"{_quote(t)}:{','.join(map(str, p))}" for t, p in positions.items())


def tsquery_literal(tokens: Sequence[str]) -> str:
    """A tsquery matching any of ``tokens``."""
    return " | ".join(_quote(t) for t in dict.fromkeys(tokens))


def ddl(schema: str) -> sql.Composed:
    """Tables every index has (the chunk table is made by the writer: its vector size varies)."""
    return sql.SQL("""
CREATE SCHEMA IF NOT EXISTS {s};
CREATE SEQUENCE IF NOT EXISTS {s}.chunk_keys;
CREATE TABLE IF NOT EXISTS {s}.meta (id int PRIMARY KEY CHECK (id = 1), format_version int NOT NULL,
  generation bigint NOT NULL, settings jsonb NOT NULL, n_chunks bigint NOT NULL, n_files bigint NOT NULL,
  total_terms bigint NOT NULL, updated timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {s}.files (source text PRIMARY KEY, sha256 text NOT NULL, size bigint NOT NULL,
  mtime_ns bigint NOT NULL, title text, date text, articles jsonb, n_chunks int NOT NULL DEFAULT 0,
  skipped text NOT NULL DEFAULT '', text text NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS {s}.terms (term text PRIMARY KEY, df bigint NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.embed_cache (embedder text, hash text, vector vector NOT NULL,
  PRIMARY KEY (embedder, hash));
""").format(s=sql.Identifier(schema))


def chunk_table_ddl(schema: str, table: str, dim: int) -> sql.Composed:
    return sql.SQL("""
CREATE TABLE {s}.{t} (key bigint PRIMARY KEY DEFAULT nextval({seq}), chunk_id text NOT NULL, doc_id text,
  source text NOT NULL, title text, date text, text text NOT NULL, "start" int, "end" int, n_tokens int,
  content_hash text NOT NULL, norm int NOT NULL, n_terms int NOT NULL, embedding vector({dim}) NOT NULL, tsv tsvector NOT NULL);
CREATE INDEX {t_source} ON {s}.{t} (source);
CREATE INDEX {t_hash} ON {s}.{t} (content_hash);
""").format(s=sql.Identifier(schema), t=sql.Identifier(table), seq=sql.Literal(f'"{schema}".chunk_keys'),
            dim=sql.Literal(int(dim)), t_source=sql.Identifier(f"{table}_source"), t_hash=sql.Identifier(f"{table}_hash"))


def search_index_ddl(schema: str, table: str, m: int, ef_construction: int) -> sql.Composed:
    """The GIN (keywords) and HNSW (vectors, inner product) indexes, built once over a new table."""
    return sql.SQL("""
CREATE INDEX {t_tsv} ON {s}.{t} USING gin (tsv);
CREATE INDEX {t_vec} ON {s}.{t} USING hnsw (embedding vector_ip_ops) WITH (m = {m}, ef_construction = {ef});
""").format(s=sql.Identifier(schema), t=sql.Identifier(table), t_tsv=sql.Identifier(f"{table}_tsv"),
            t_vec=sql.Identifier(f"{table}_vec"), m=sql.Literal(int(m)), ef=sql.Literal(int(ef_construction)))


_DENSE = """SELECT key, -(embedding <#> %(v)s) AS score FROM {s}.chunks ORDER BY embedding <#> %(v)s LIMIT %(pool)s"""

_KEYWORD = """SELECT c.key, SUM(q.idf * {k1p1} * cardinality(u.positions)
      / (cardinality(u.positions) + {k1} * (1 - {b} + {b} * c.norm / nullif(m.avg_len, 0)))) AS score
    FROM {s}.chunks c CROSS JOIN LATERAL unnest(c.tsv) AS u
    JOIN (SELECT t.term, ln(1 + (m.n_chunks - t.df + 0.5) / (t.df + 0.5)) AS idf
          FROM {s}.terms t, {s}.meta m WHERE t.term = ANY(%(terms)s) AND t.df > 0) q ON q.term = u.lexeme
    CROSS JOIN (SELECT total_terms::float8 / nullif(n_chunks, 0) AS avg_len FROM {s}.meta) m
    WHERE c.tsv @@ %(tsq)s::tsquery
    GROUP BY c.key ORDER BY score DESC, c.key LIMIT %(pool)s"""


def _fmt(text: str, schema: str) -> sql.Composed:
    return sql.SQL(text).format(s=sql.Identifier(schema), k1=sql.Literal(K1), b=sql.Literal(B),
                                k1p1=sql.Literal(K1 + 1))


def dense_sql(schema: str) -> sql.Composed:
    return _fmt(_DENSE, schema)


def keyword_sql(schema: str) -> sql.Composed:
    return _fmt(_KEYWORD, schema)


# One statement: both lists (each its deep pool), ranked; then RRF over the top ``depth`` of
# each, or a normalised score: (x - offset) / spread over the list plus ``rest`` off-list chunks
# counted at ``fill`` (see rag.retrieval._normalised), summed with the weights.
_HYBRID_HEAD = """WITH d AS ({dense}), k AS ({keyword}),
lists AS (SELECT 0 AS list, key, score, row_number() OVER (ORDER BY score DESC, key) AS rank FROM d
          UNION ALL SELECT 1, key, score, row_number() OVER (ORDER BY score DESC, key) FROM k),
cand AS (SELECT DISTINCT key FROM lists WHERE rank <= %(depth)s)"""

_RRF = _HYBRID_HEAD + """
SELECT l.key, SUM(CASE l.list WHEN 0 THEN %(w_dense)s ELSE %(w_kw)s END / (%(c)s + l.rank)) AS fused
FROM lists l JOIN cand USING (key) WHERE l.rank <= %(depth)s GROUP BY l.key ORDER BY fused DESC, l.key"""

_SCORED = _HYBRID_HEAD + """,
stats AS (SELECT list, count(*) AS h, sum(score) AS s1, sum(score * score) AS s2, min(score) AS lo, max(score) AS hi
          FROM lists GROUP BY list),
pop AS (SELECT l.list, s.h, s.s1, s.s2, s.lo, s.hi, greatest(0, %(population)s - s.h) AS rest,
               CASE WHEN greatest(0, %(population)s - s.h) = 0 OR s.h >= %(pool)s THEN s.lo ELSE 0 END AS fill
        FROM (VALUES (0), (1)) AS l(list) LEFT JOIN stats s USING (list)),
norm AS (SELECT list, fill,
           CASE WHEN %(method)s = 'minmax' THEN CASE WHEN rest > 0 THEN least(lo, fill) ELSE lo END
                ELSE (s1 + rest * fill) / (h + rest) END AS off,
           CASE WHEN %(method)s = 'minmax' THEN (CASE WHEN rest > 0 THEN greatest(hi, fill) ELSE hi END)
                                                 - (CASE WHEN rest > 0 THEN least(lo, fill) ELSE lo END)
                ELSE sqrt(greatest((s2 + rest * fill * fill) / (h + rest) - ((s1 + rest * fill) / (h + rest)) ^ 2, 0))
           END AS spread
         FROM pop),
spread AS (SELECT list, coalesce(off, 0) AS off, coalesce(fill, 0) AS fill,
             CASE WHEN %(method)s = 'minmax' AND spread > 0 THEN spread
                  WHEN spread * spread > 1e-18 THEN spread ELSE 0 END AS spread FROM norm)
SELECT c.key, SUM(CASE s.list WHEN 0 THEN %(w_dense)s ELSE %(w_kw)s END
                  * CASE WHEN s.spread > 0 THEN (coalesce(l.score, s.fill) - s.off) / s.spread ELSE 0 END) AS fused
FROM cand c CROSS JOIN spread s LEFT JOIN lists l ON l.key = c.key AND l.list = s.list
GROUP BY c.key ORDER BY fused DESC, c.key"""


def hybrid_sql(schema: str, method: str) -> sql.Composed:
    text = _RRF if method == "rrf" else _SCORED
    return sql.SQL(text).format(dense=dense_sql(schema), keyword=keyword_sql(schema))
