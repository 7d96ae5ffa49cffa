#!/usr/bin/env python3
"""Staff inbox latency with a big store: builds a database of N messages
(default 1,000,000) straight with SQL in the daemon's schema, starts
simpuld on it and times the list, filter and search API calls as a
logged-in browser would make them. Prints a table; asserts nothing (this
is a benchmark, not a test).

    SIMPUL_BUILD=build python3 bench/bench_inbox.py [--messages N]
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import harness as H  # noqa: E402
from test_api import Client, add_user  # noqa: E402

WORDS = ("mohon info syarat ktp kk surat pengantar rt domisili sktm nikah "
         "lampu jalan mati sampah menumpuk drainase banjir posyandu jadwal "
         "pbb bayar retribusi jam buka kantor kelurahan terima kasih pak bu "
         "tolong bantu kapan selesai berkas sudah dikirim foto scan "
         "keamanan ronda gang rusak jembatan pindah datang lahir akta").split()


def build(db_path, n_msgs, per_conv):
    n_conv = max(1, n_msgs // per_conv)
    now = int(time.time() * 1000)
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TEMP TABLE w(i INTEGER PRIMARY KEY, t TEXT)")
    db.executemany("INSERT INTO w VALUES (?, ?)", enumerate(WORDS))
    nw = len(WORDS)
    t0 = time.monotonic()
    with db:
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                    WHERE i < {n_conv})
            INSERT INTO contacts(id, phone, wa_id, kind, name, rt,
                                 created_at, updated_at)
            SELECT i, '+62812' || printf('%08d', i),
                   '62812' || printf('%08d', i), 'mobile',
                   'Warga ' || i, printf('%03d/%03d', i % 12, i % 7),
                   {now} - i * 60000, {now} - i * 60000 FROM n""")
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                    WHERE i < {n_conv})
            INSERT INTO conversations(id, contact_id, status, category,
                assignee, ticket, due_at, last_channel, last_in_at, unread,
                opened_at, updated_at, closed_at)
            SELECT i, i,
                   CASE i % 4 WHEN 0 THEN 'baru' WHEN 1 THEN 'diproses'
                        WHEN 2 THEN 'menunggu_rt' ELSE 'selesai' END,
                   CASE i % 3 WHEN 0 THEN 'layanan/ktp'
                        WHEN 1 THEN 'pengaduan/lampu' ELSE NULL END,
                   CASE i % 5 WHEN 0 THEN 'siti' ELSE NULL END,
                   'KLS-' || i, {now} + (i % 10 - 5) * 86400000,
                   CASE i % 2 WHEN 0 THEN 'sms' ELSE 'whatsapp' END,
                   {now} - i * 60000, i % 3, {now} - i * 60000,
                   {now} - i * 60000, NULL FROM n""")
        db.execute(f"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                                    WHERE i < {n_msgs})
            INSERT INTO messages(conversation_id, contact_id, channel,
                direction, peer, body, at, source_id, status, created_at)
            SELECT c, c, CASE (i / 3) % 2 WHEN 0 THEN 'sms'
                              ELSE 'whatsapp' END,
                   CASE i % 2 WHEN 0 THEN 'in' ELSE 'out' END,
                   '+62812' || printf('%08d', c),
                   (SELECT t FROM w WHERE i = (n.i * 7) % {nw}) || ' ' ||
                   (SELECT t FROM w WHERE i = (n.i * 13) % {nw}) || ' ' ||
                   (SELECT t FROM w WHERE i = (n.i * 31) % {nw}) || ' ' ||
                   (SELECT t FROM w WHERE i = (n.i * 57) % {nw}) ||
                   ' nomor ' || n.i,
                   {now} - (c * 60000) - ({per_conv} - i % {per_conv}) * 1000,
                   CASE i % 2 WHEN 0 THEN 'bench-' || i END,
                   CASE i % 2 WHEN 0 THEN 'received' ELSE 'delivered' END,
                   {now}
            FROM (SELECT i, (i - 1) % {n_conv} + 1 AS c FROM n) AS n""")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return n_conv, time.monotonic() - t0


def timed(client, path, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        st, body, _ = client.req("GET", path)
        times.append((time.perf_counter() - t) * 1000)
        if st != 200:
            raise SystemExit(f"{path}: HTTP {st} {body[:200]!r}")
    return times, json.loads(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--per-conversation", type=int, default=50)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="simpul-bench-")
    d = H.Daemon(tmp)
    d.start()
    add_user(d, "siti", "admin")
    d.stop()
    n_conv, secs = build(d.db, a.messages, a.per_conversation)
    size = os.path.getsize(d.db) / 1e6
    print(f"store: {a.messages} messages in {n_conv} conversations, "
          f"{size:.0f} MB, built in {secs:.0f} s")
    d.start()
    c = Client(d)
    if c.login()[0] != 200:
        raise SystemExit("login failed")
    q = urllib.parse.quote
    cases = [
        ("list, first page (open)", "/api/v1/conversations?status=open"),
        ("list, all, page 100", "/api/v1/conversations?offset=4950"),
        ("filter status=diproses", "/api/v1/conversations?status=diproses"),
        ("filter channel=sms", "/api/v1/conversations?channel=sms"),
        ("filter category", "/api/v1/conversations?category="
         + q("layanan/ktp")),
        ("filter assignee=siti", "/api/v1/conversations?assignee=siti"),
        ("filter overdue", "/api/v1/conversations?overdue=1"),
        ("search common word", "/api/v1/conversations?q=posyandu"),
        ("search two words", "/api/v1/conversations?q=" + q("lampu mati")),
        ("search rare (one message)", "/api/v1/conversations?q=" +
         q(f"nomor {a.messages // 2}")),
        ("conversation view", f"/api/v1/conversations/{n_conv // 2}"),
        ("changes poll", "/api/v1/changes"),
    ]
    print(f"{'call':32} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}"
          f" {'hits':>8}")
    for name, path in cases:
        times, body = timed(c, path, a.runs)
        times.sort()
        hits = body.get("total", len(body.get("messages", []))) \
            if isinstance(body, dict) else len(body)
        print(f"{name:32} {statistics.median(times):10.1f}"
              f" {times[int(len(times) * .95) - 1]:8.1f} {times[-1]:8.1f}"
              f" {hits:>8}")
    d.stop()
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
