#!/usr/bin/env python3
"""Years of messages: fills a store to N messages (default 1,000,000) in
the daemon's own schema (simpuld creates and migrates the database first),
with Indonesian bodies, names and numbers, starts simpuld on it and prints
p50/p95 of the staff inbox's list and search requests over the local
socket. Asserts nothing (a benchmark, not a test).

    SIMPUL_BUILD=build python3 bench/bigdb.py [--messages N] [--runs 20]
        [--keep DIR]     # build the store into DIR and keep it
        [--db FILE]      # time an existing store (a copy is used)

A store built by one build (--keep) can be timed by another (--db): the
newer simpuld migrates its copy first, so before/after run on the same
data.
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import harness as H  # noqa: E402

FIRST = ("Sari Budi Agus Siti Dewi Rina Joko Bambang Wahyu Eko Sri Nur Ahmad"
         " Yanti Asep Dedi Lilis Ujang Hendra Fitri Putri Rudi Andi Ratna Iwan"
         " Tuti Yusuf Aminah Slamet Wati Darmo Endang Heru Ningsih Taufik"
         " Maya Rizky Ayu Fajar Indah").split()
LAST = ("Wulandari Santoso Pratama Hidayat Saputra Lestari Kurniawan"
        " Setiawan Rahayu Susanto Wibowo Nugroho Purnomo Handayani"
        " Suryadi Hasanah Siregar Nasution Simanjuntak Harahap Permana"
        " Gunawan Sulistyo Maulana Rahman Utami Fauzi Hakim Syahputra"
        " Ramadhan").split()
STREETS = "Melati Mawar Kenanga Flamboyan Anggrek Cempaka Dahlia".split()
# (weight, template): {n} name, {rt} RT, {g} street, {d} a number,
# {hp} a phone number, {k} a 16-digit NIK
TEMPLATES = [
    (30, "Selamat pagi pak, mau tanya syarat bikin KTP baru apa saja"),
    (20, "Mohon info syarat KK baru, anak saya baru lahir"),
    (15, "Pak saya mau ambil surat pengantar RT {rt} untuk nikah"),
    (12, "KTP saya hilang, bagaimana cara urus yang baru? NIK {k}"),
    (12, "Sampah di gang {g} sudah {d} hari tidak diangkut"),
    (10, "Lampu jalan mati di RT {rt} depan rumah pak {n}"),
    (10, "Drainase di jalan {g} mampet, kalau hujan banjir"),
    (6, "Got mampet banjir sampai masuk rumah, tolong dibantu"),
    (10, "Terima kasih bu, berkas sudah saya kirim"),
    (8, "Jam buka kantor kelurahan hari sabtu sampai jam berapa?"),
    (8, "Atas nama {n}, RT {rt}, mohon dibantu surat domisili"),
    (6, "Bisa dihubungi ke nomor {hp} ya pak"),
    (6, "Jadwal posyandu bulan ini tanggal berapa bu?"),
    (5, "Mau urus SKTM untuk berobat ibu saya, {n}"),
    (5, "Ronda malam di RT {rt} sudah tidak jalan, mohon ditertibkan"),
    (4, "Jembatan kecil di gang {g} rusak, bahaya untuk anak sekolah"),
    (4, "Akta kelahiran anak saya belum jadi, sudah {d} minggu"),
    (3, "Pindah datang dari luar kota, perlu surat apa saja?"),
    (2, "PBB tahun ini bayar di mana pak?"),
    (1, "Mau tanya soal surat keterangan ahli waris almarhum {n}"),
]
REPLIES = [
    "Baik, berkas dibawa ke kantor kelurahan jam 08.00-15.00",
    "Terima kasih laporannya, petugas akan cek ke lokasi",
    "Syarat: fotokopi KK, pengantar RT/RW, KTP lama bila ada",
    "Sudah kami teruskan ke Ketua RT {rt}",
    "Mohon kirim foto lokasinya pak/bu",
]
STATUSES = ["selesai"] * 12 + ["baru", "diproses", "menunggu_rt", "otomatis"]
CATEGORIES = ["layanan/ktp", "layanan/kk", "layanan/surat", "pengaduan/sampah",
              "pengaduan/lampu", "pengaduan/drainase", None]


def name(i):
    return f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"


def phone(i):
    """A distinct mobile number for contact i, E.164."""
    return f"+628{11 + i % 9}{(i * 7919) % 10**8:08d}"


class Bodies:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.ins = [t for w, t in TEMPLATES for _ in range(w)]

    def fill(self, t):
        r = self.r
        return t.format(n=name(r.randrange(50000)), rt=f"{r.randrange(1, 15):02d}",
                        g=r.choice(STREETS), d=r.randrange(2, 15),
                        hp="08" + phone(r.randrange(50000))[4:],
                        k=f"3273{r.randrange(10**12):012d}")

    def inbound(self):
        return self.fill(self.r.choice(self.ins))

    def reply(self):
        return self.fill(self.r.choice(REPLIES))


def build(db_path, n_msgs, n_conv, n_contacts):
    """Messages in time order (ids grow with time, as in a real store),
    grouped into conversations; each contact has n_conv/n_contacts."""
    now = int(time.time() * 1000)
    t0 = now - n_msgs * 60_000  # one message a minute, ending now
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    b = Bodies(17)
    # Schema 14 on: simpuld indexes a transaction's messages for search
    # before its COMMIT (no insert trigger), and so does the fill.
    index_here = not db.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'messages_fts_ai'"
    ).fetchone()
    # Schema 19 on: messages and people are indexed in batches below the
    # marks in counters (no contacts insert trigger either); the fill
    # indexes everything and sets the marks, as simpuld's batch does.
    marks = db.execute(
        "SELECT 1 FROM counters WHERE name = 'fts_contacts'").fetchone()
    # Schema 22 on: message_counts is kept in those batches too.
    count_here = not db.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'message_counts_ai'"
    ).fetchone() and db.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'message_counts'"
    ).fetchone()
    start = time.monotonic()
    with db:
        db.executemany(
            "INSERT INTO contacts(id, phone, wa_id, kind, name, created_at,"
            " updated_at) VALUES (?, ?, ?, 'mobile', ?, ?, ?)",
            ((i, phone(i), phone(i)[1:], name(i), t0, t0)
             for i in range(1, n_contacts + 1)))
    per = n_msgs / n_conv
    rows, conv = [], []
    r = random.Random(5)
    for c in range(1, n_conv + 1):
        first, last = int((c - 1) * per) + 1, int(c * per)
        k = (c * 7) % n_contacts + 1
        st = r.choice(STATUSES)
        ch = "sms" if c % 3 else "whatsapp"
        for m in range(first, last + 1):
            inbound = (m - first) % 2 == 0
            rows.append((m, c, k, ch, "in" if inbound else "out", phone(k),
                         b.inbound() if inbound else b.reply(),
                         t0 + m * 60_000,
                         f"big-{m}" if inbound else None,
                         "received" if inbound else "delivered",
                         t0 + m * 60_000))
        at = t0 + last * 60_000
        conv.append((c, k, st, CATEGORIES[c % len(CATEGORIES)],
                     "siti" if c % 5 == 0 else None, f"KLS-{c:06d}",
                     at + (c % 10 - 3) * 86_400_000, ch, at, c % 2,
                     t0 + first * 60_000, at,
                     at if st == "selesai" else None))
        if len(rows) >= 50_000 or c == n_conv:
            with db:
                db.executemany(
                    "INSERT INTO conversations(id, contact_id, status,"
                    " category, assignee, ticket, due_at, last_channel,"
                    " last_in_at, unread, opened_at, updated_at, closed_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", conv)
                db.executemany(
                    "INSERT INTO messages(id, conversation_id, contact_id,"
                    " channel, direction, peer, body, at, source_id, status,"
                    " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
                if index_here:
                    db.execute("INSERT INTO messages_fts(rowid, body)"
                               " SELECT id, body FROM messages"
                               " WHERE id >= ?", (rows[0][0],))
            rows, conv = [], []
            print(f"\r  {c * 100 // n_conv:3d}% of the conversations",
                  end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    with db:
        # the hub's event capture starts after what is already there
        db.execute("UPDATE evlog_cursor SET value = (SELECT max(id) FROM"
                   " messages) WHERE name = 'messages'")
        if count_here:
            db.execute("INSERT INTO message_counts SELECT channel,"
                       " direction, count(*) FROM messages"
                       " WHERE kind != 'notice' GROUP BY 1, 2")
        if marks:
            db.execute("INSERT INTO contacts_fts(rowid, name, raw)"
                       " SELECT id, name, raw FROM contacts")
            for t in ("messages", "contacts"):
                db.execute(f"UPDATE counters SET value = (SELECT max(id)"
                           f" FROM {t}) WHERE name = 'fts_{t}'")
        # The fill's batches leave FTS5 level-0 segments of hundreds of
        # leaves, which a daemon's one-message segments never make: the
        # first SMS after the fill would finish merging them (4,207 WAL
        # frames in one commit). Merged into one, the index is as a
        # daemon's is just after a big merge.
        for t in ("messages_fts", "contacts_fts"):
            db.execute(f"INSERT INTO {t}({t}) VALUES('optimize')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.monotonic() - start


def get(d, path):
    st, body = H.unix_request(d.sock, "GET", path)
    if st != 200:
        raise SystemExit(f"{path}: HTTP {st} {body[:200]!r}")
    return json.loads(body)


def timed(d, path, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        j = get(d, path)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times, j


def deep_page(d, base, pages):
    """The path of page `pages` + 1 of 50: by the keyset cursor when the
    daemon gives one (walked page by page), else by offset."""
    path = base
    for _ in range(pages):
        j = get(d, path)
        if not j.get("next"):
            return f"{base}&offset={pages * 50}"
        path = f"{base}&before={urllib.parse.quote(j['next'])}"
    return path


def cases(d, n_contacts):
    q = urllib.parse.quote
    who = name(n_contacts // 3).lower().split()
    num = "0" + phone(n_contacts // 2)[3:10]  # its first 8 digits, 0-form
    c = "/api/v1/conversations?limit=50"
    one = get(d, f"{c}&box=kerja")["items"][0]["id"]
    return [
        ("conversations, newest 50", f"{c}&box=kerja"),
        ("status = baru", f"{c}&box=kerja&status=baru"),
        ("category = layanan/ktp", f"{c}&category=" + q("layanan/ktp")),
        ("page 101 (after 5000)", deep_page(d, c, 100)),
        ("overdue", f"{c}&box=kerja&overdue=1"),
        ("assignee = siti", f"{c}&assignee=siti"),
        ("one conversation", f"/api/v1/conversations/{one}"),
        ('search "ktp" (common word)', f"{c}&q=ktp"),
        ('search "waris" (rare word)', f"{c}&q=waris"),
        ('search "got mampet banjir"', f"{c}&q=" + q("got mampet banjir")),
        (f'search "{num}" (number)', f"{c}&q={num}"),
        (f'search "{who[0]} {who[1][:5]}" (name)',
         f"{c}&q=" + q(f"{who[0]} {who[1][:5]}")),
    ]


def run(db, build, runs):
    """Times every case against a copy of db with simpuld from build;
    [(label, p50, p95, items, total)]."""
    H.SIMPULD = os.path.join(build, "daemon", "simpuld")
    H.SIMPULCTL = os.path.join(build, "daemon", "simpulctl")
    tmp = tempfile.mkdtemp(prefix="simpul-bigdb-")
    d = H.Daemon(tmp)
    shutil.copy(db, d.db)
    n_contacts = sqlite3.connect(d.db).execute(
        "SELECT count(*) FROM contacts").fetchone()[0]
    t = time.monotonic()
    d.start()  # migrates a store made by an older build
    print(f"{build}: simpuld ready in {time.monotonic() - t:.1f} s"
          " (migrations included)", file=sys.stderr)
    out = []
    try:
        for label, path in cases(d, n_contacts):
            times, j = timed(d, path, runs)
            items = len(j["items"]) if "items" in j else "-"
            total = j.get("total", "-")
            if j.get("more"):
                total = f">{total}"
            out.append((label, statistics.median(times),
                        times[max(0, int(len(times) * .95) - 1)], items,
                        total))
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--conversations", type=int, default=0,
                    help="default: 15%% of the messages")
    ap.add_argument("--contacts", type=int, default=0,
                    help="default: a third of the conversations")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--keep", help="keep the store built in this directory")
    ap.add_argument("--db", help="time a copy of this store, built before")
    ap.add_argument("--builds", default=H.BUILD,
                    help="build directories to compare, comma-separated"
                    " (e.g. build-before,build): each times its own copy"
                    " of the same store, one after the other")
    a = ap.parse_args()
    db = a.db
    if not db:
        n_conv = a.conversations or max(1, a.messages * 15 // 100)
        n_contacts = a.contacts or max(1, n_conv // 3)
        tmp = a.keep or tempfile.mkdtemp(prefix="simpul-bigdb-")
        os.makedirs(tmp, exist_ok=True)
        H.SIMPULD = os.path.join(a.builds.split(",")[0], "daemon", "simpuld")
        d = H.Daemon(tmp)
        d.start()  # creates the store: every migration, as in the field
        d.stop()
        print(f"filling: {a.messages} messages, {n_conv} conversations,"
              f" {n_contacts} contacts", file=sys.stderr)
        secs = build(d.db, a.messages, n_conv, n_contacts)
        print(f"built in {secs:.0f} s", file=sys.stderr)
        db = d.db
    print(f"store: {os.path.getsize(db) / 1e6:.0f} MB, "
          + ", ".join(f"{n} {t}" for t, n in sqlite3.connect(db).execute(
              "SELECT 'messages', count(*) FROM messages UNION ALL"
              " SELECT 'conversations', count(*) FROM conversations UNION ALL"
              " SELECT 'contacts', count(*) FROM contacts")))
    builds = a.builds.split(",")
    res = [run(db, b, a.runs) for b in builds]
    head = f"{'request':36}"
    for b in builds:
        w = os.path.basename(b.rstrip("/"))[:17]
        head += f" | {w + ' p50':>11} {'p95':>7} {'n':>3} {'total':>7}"
    print(head)
    for i, (label, *_) in enumerate(res[0]):
        line = f"{label:36}"
        for r in res:
            _, p50, p95, items, total = r[i]
            line += f" | {p50:11.1f} {p95:7.1f} {items:>3} {total:>7}"
        print(line)
    if not a.db and not a.keep:
        shutil.rmtree(os.path.dirname(db), ignore_errors=True)


if __name__ == "__main__":
    main()
