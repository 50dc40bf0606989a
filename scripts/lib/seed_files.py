#!/usr/bin/env python3
"""Seeds a migrated Intake database (after `intake demo-seed`) with files at scale, for
`scripts/bench files`: OWNERS portal owners (each with a local-disk storage account and two
portals) holding FILES files between them, plus BIG files for the demo owner
(owner@example.com), spread over the last year. The other owners share the demo owner's password.

The rows are written with the file table's triggers set aside (each row through them cost 0.2 ms,
three quarters of the time), then the counts they keep (totals, analytics rollups, the search
index, usage) are rebuilt from the rows by `intake recount`, the product's own rebuild, which
gives what the triggers would have (KeptCountsTests).

Names come from a fixed vocabulary, so a benchmark's filters match a known share of the rows:
file names are `<word>-<n>.<ext>` over 40 words; client names are `<first> <last>` over 50 × 50.

Usage: seed_files.py DB --intake BIN [--owners 10000] [--files 800000] [--big 200000]
(BIN recount runs with this environment: INTAKE_HOME or INTAKE_DATABASE_URL must name DB.)
"""
import argparse
import sqlite3
import subprocess
import time

WORDS = """invoice contract passport scan photo report statement receipt payslip agreement
    proposal drawing estimate quote permit licence certificate transcript resume portfolio
    brochure manual minutes budget forecast ledger summary appendix letter memo
    floorplan survey inspection valuation deed lease mortgage policy claim notice""".split()
FIRST = """Ada Alan Grace Linus Barbara Dennis Ken Margaret Edsger Donald Frances John Radia Tim
    Vint Bjarne Guido James Larry Sophie Hedy Katherine Dorothy Annie Mary Jean Betty Kathleen
    Evelyn Ruth Marlyn Adele Ida Lynn Carol Susan Shafi Leslie Niklaus Tony Robin Fran Jim Joan
    Anita Lixia Yoshua Geoffrey Whitfield Martin""".split()
LAST = """Lovelace Turing Hopper Torvalds Liskov Ritchie Thompson Hamilton Dijkstra Knuth Allen
    McCarthy Perlman Berners Cerf Stroustrup Rossum Gosling Wall Wilson Lamarr Johnson Vaughan
    Easley Jackson Bartik Holberton Antonelli Boyer Teitelbaum Wescoff Goldstine Rhodes Conway
    Shaw Kare Goldwasser Lamport Wirth Hoare Milner Allen Gray Clarke Borg Zhang Bengio Hinton
    Diffie Hellman""".split()
EXTS = ["pdf", "jpg", "png", "docx", "xlsx", "zip"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--intake", required=True, help="the intake binary, for `intake recount`")
    parser.add_argument("--owners", type=int, default=10000)
    parser.add_argument("--files", type=int, default=800000)
    parser.add_argument("--big", type=int, default=200000)
    args = parser.parse_args()

    started = time.time()
    db = sqlite3.connect(args.db, isolation_level=None, timeout=60)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")
    db.execute("BEGIN")
    # The file table's triggers, set aside until the rows are in (the same transaction).
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'file_uploads'").fetchall()
    for name, _ in triggers:
        db.execute(f'DROP TRIGGER "{name}"')
    now = int(time.time())
    year = 365 * 86400
    owner = db.execute("SELECT id, password_hash FROM users WHERE email_normalized = 'owner@example.com'").fetchone()
    if owner is None:
        raise SystemExit("seed_files.py: run `intake demo-seed` first (no owner@example.com)")
    big_owner, password_hash = owner
    plan = db.execute("SELECT plan_id FROM users WHERE id = ?", (big_owner,)).fetchone()[0]

    for table, rows in (("words", WORDS), ("firsts", FIRST), ("lasts", LAST), ("exts", EXTS)):
        db.execute(f"CREATE TEMP TABLE {table} (i INTEGER PRIMARY KEY, v TEXT)")
        db.executemany(f"INSERT INTO {table} (i, v) VALUES (?, ?)", list(enumerate(rows)))

    # Owners, each with a local-disk account and two portals.
    db.execute("""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO users (email, email_normalized, name, password_hash, role, created_at, updated_at, plan_id, quota_bytes)
        SELECT 'owner' || i || '@bench.example', 'owner' || i || '@bench.example', 'Bench Owner ' || i, ?, 'user', ?, ?, ?,
               1000000000000 FROM n
        """, (args.owners, password_hash, now - year, now - year, plan))
    db.execute("""
        INSERT INTO storage_accounts (user_id, provider, provider_account_id, display_name, created_at, updated_at)
        SELECT id, 'local', 'local', 'Local disk', ?, ? FROM users
        WHERE email_normalized LIKE '%@bench.example'
        """, (now - year, now - year))
    for k in (1, 2):
        db.execute("""
            INSERT INTO portals (user_id, name, slug, storage_account_id, created_at, updated_at)
            SELECT u.id, 'Portal ' || ?, 'bench-' || u.id || '-' || ?, s.id, ?, ?
            FROM users u JOIN storage_accounts s ON s.user_id = u.id
            WHERE u.email_normalized LIKE '%@bench.example'
            """, (k, k, now - year, now - year))

    # The files, oldest first (ids rise with time, as uploads' do). Each owner's files fall into
    # its two portals alternately; 1 in 50 is still delivering or failed.
    def files(count, owner_sql):
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1),
            picked AS (
                SELECT i, ({owner_sql}) AS user_id,
                       i * 2654435761 % 4294967296 AS h
                FROM n
            )
            INSERT INTO file_uploads (portal_id, user_id, storage_account_id, provider_file_id, provider_path, file_name,
                                      content_type, size_bytes, sha256, client_name, client_email, status, created_at, updated_at,
                                      delivered_at)
            SELECT p.id, picked.user_id, p.storage_account_id, 'f' || i, 'bench/' || i,
                   (SELECT v FROM words WHERE i = h % {len(WORDS)}) || '-' || (h % 100000) || '.' || (SELECT v FROM exts WHERE i = h % {len(EXTS)}),
                   'application/octet-stream', 1000 + h % 5000000, NULL,
                   (SELECT v FROM firsts WHERE i = (h / 7) % {len(FIRST)}) || ' ' || (SELECT v FROM lasts WHERE i = (h / 401) % {len(LAST)}),
                   lower((SELECT v FROM firsts WHERE i = (h / 7) % {len(FIRST)})) || '@client' || (h % 97) || '.example',
                   CASE WHEN (h / 13) % 50 = 0 THEN 'failed' WHEN (h / 13) % 50 = 1 THEN 'delivering' ELSE 'uploaded' END,
                   ? + i * ? / ?, ? + i * ? / ?, ? + i * ? / ?
            FROM picked
            JOIN owner_portals o ON o.user_id = picked.user_id
            JOIN portals p ON p.id = CASE WHEN i % 2 = 0 THEN o.first ELSE o.second END
            """, (count, now - year, year, count, now - year, year, count, now - year, year, count))

    db.execute("""
        CREATE TEMP TABLE owner_portals AS
        SELECT user_id, min(id) AS first, max(id) AS second FROM portals GROUP BY user_id
        """)
    db.execute("CREATE UNIQUE INDEX temp.owner_portals_user ON owner_portals (user_id)")
    first_bench, last_bench = db.execute(
        "SELECT min(id), max(id) FROM users WHERE email_normalized LIKE '%@bench.example'").fetchone()
    files(args.files, f"{first_bench} + (i * 2654435761 % 4294967296) % {last_bench - first_bench + 1}")
    files(args.big, str(big_owner))
    for _, sql in triggers:
        db.execute(sql)
    db.execute("COMMIT")
    # The rows leave the write-ahead log first: read through it, the recount took 7 times as long.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    inserted = time.time()
    subprocess.run([args.intake, "recount", "--apply"], check=True, stdout=subprocess.DEVNULL)
    recounted = time.time()
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total = db.execute("SELECT sum(files) FROM file_totals").fetchone()[0]
    print(f"seed_files.py: {total:,} files, {args.owners:,} owners + owner@example.com with {args.big:,}, "
          f"in {time.time() - started:.0f} s (rows {inserted - started:.0f} s, recount {recounted - inserted:.0f} s)")


if __name__ == "__main__":
    main()
