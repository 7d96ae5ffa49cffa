#!/usr/bin/env python3
"""Drain N SMS stored on the SIM: simpuld against gammu-smsd (SQL backend
on SQLite), both reading the same simulated modem (simpul-modemsim,
profile sim800).

For each run: a fresh simulator with --capacity >= N gets N single-part
SMS injected before the reader starts; the clock runs from the reader's
start until the SIM storage is empty and all N messages are in the
reader's store. At that moment the reader's CPU time (user+sys, from
/proc/PID/stat), peak RSS (VmHWM) and current RSS (VmRSS, both from
/proc/PID/status) are read. simpuld's peak is set at startup, before
any SMS, by the argon2id dummy hash in daemon/web/auth.c auth_new() (64 MiB,
crypto_pwhash_MEMLIMIT_INTERACTIVE); "RSS end" shows the working set. Each
reader runs 3 times (--repeat); the median is printed, then the ratios
gammu-smsd / simpul. A benchmark, not a test: it asserts nothing.

    SIMPUL_BUILD=build python3 bench/drain.py [N] [--repeat 3]
"""
import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import harness as H  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
GAMMU_SQL = "/usr/share/doc/gammu-smsd/examples/sqlite.sql"

# Realistic single-part texts (GSM-7, extension characters, UCS-2 emoji);
# each stays within one SMS with its serial number added.
TEXTS = [
    "Selamat pagi pak, mohon info syarat bikin KTP baru {i}",
    "Jam buka kantor kelurahan hari Sabtu? [{i}]",
    "Lampu jalan di gang 3 RT 005/002 mati sejak kemarin ({i})",
    "Terima kasih bu, surat pengantar sudah saya ambil 🙏 {i}",
    "Sampah menumpuk di depan pos ronda, tolong diangkut {i}",
    "Biaya legalisir berapa? ~ {i} lembar",
    "Mau tanya jadwal posyandu bulan ini 😊 {i}",
    "Apakah SKTM bisa diurus online? no {i}",
]


def proc_cpu(pid):
    """user+sys seconds of a live process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_mem_mb(pid, field):
    """VmHWM (peak) or VmRSS (now) of a live process, in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def proc_io(pid):
    """/proc/PID/io as a dict: write_bytes (what the process caused to be
    written to the block layer, page-cache writeback included), wchar
    (bytes passed to write/pwrite) and syscw (write calls)."""
    with open(f"/proc/{pid}/io") as f:
        return {k: int(v) for k, v in (ln.split(": ") for ln in f)}


class MemSampler:
    """Peak RssAnon (the process's own anonymous memory, not the shared
    library pages) and VmRSS, sampled each time it is called."""

    def __init__(self, pid):
        self.pid = pid
        self.anon = 0.0
        self.rss = 0.0

    def __call__(self):
        try:
            self.anon = max(self.anon, proc_mem_mb(self.pid, "RssAnon"))
            self.rss = max(self.rss, proc_mem_mb(self.pid, "VmRSS"))
        except OSError:
            pass


def inject(sim, n):
    # The SIM800 profile holds SMS at the "SMSC" until "SMS Ready" (about
    # a second after boot), in a queue of 256: beyond that, wait first.
    if n > 200:
        time.sleep(2)
    want = []
    for i in range(n):
        frm = f"+62812{300000 + i:06d}"
        text = TEXTS[i % len(TEXTS)].format(i=i)
        sim.sms(frm, text)
        want.append((frm, text))
    try:
        H.wait_for(lambda: len(sim.stored()) == n, timeout=15,
                   what="the SIM to hold every injected SMS")
    except AssertionError:
        raise RuntimeError(f"simulator holds {len(sim.stored())} of {n} "
                           "injected SMS")
    return want


def sim_commands(sim):
    try:
        import json
        return json.loads(sim.ctl("stats")).get("commands")
    except Exception:
        return None


def count_rows(db, sql):
    """sql's count on the SQLite file db, read-only; 0 while the file or
    its table is not there yet or is locked."""
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return c.execute(sql).fetchone()[0]
        finally:
            c.close()
    except sqlite3.Error:
        return 0


def wait_done(proc, sim, count, n, timeout, sample=None):
    """Poll until the SIM is empty and the store holds n; returns the
    elapsed time at that moment, or raises. sample() is called at each
    poll (every 50 ms)."""
    end = time.monotonic() + timeout
    while True:
        if sample:
            sample()
        if proc.poll() is not None:
            raise RuntimeError(f"reader exited with {proc.returncode}")
        # The SIM first (cheap, and it does not load the reader), then
        # the reader's store.
        if not sim.stored():
            got = count()
            if got >= n:
                return got
        if time.monotonic() > end:
            raise RuntimeError(f"not drained after {timeout} s "
                               f"(store has {count()}, SIM "
                               f"{len(sim.stored())})")
        time.sleep(0.05)


def run_simpul(tmp, n, timeout):
    sim = H.Sim(tmp, profile="sim800", args=("--capacity", str(max(n, 30))))
    d = None
    try:
        inject(sim, n)
        # The office section only, no rules: no auto-replies, so only the
        # drain is measured (gammu-smsd sends nothing either).
        rules = os.path.join(tmp, "rules.d")
        os.mkdir(rules)
        shutil.copy(os.path.join(TOP, "etc", "rules.d", "00-office.ini"),
                    rules)
        d = H.Daemon(tmp, modem_device=sim.link, rules_dir=rules,
                     extra={"general": {"log_level": "info"}})
        t0 = time.monotonic()
        d.start(wait=False)

        # Counted as gammu-smsd's are: a read-only query on the reader's
        # own SQLite file from this process. (Asking simpuld through its
        # socket every 50 ms would add the benchmark's own requests to
        # simpuld's CPU time, and gammu-smsd is asked nothing.)
        def count():
            return count_rows(d.db, "SELECT count(*) FROM messages"
                              " WHERE direction = 'in'")
        mem = MemSampler(d.proc.pid)
        got = wait_done(d.proc, sim, count, n, timeout, mem)
        secs = time.monotonic() - t0
        cpu = proc_cpu(d.proc.pid)
        rss = proc_mem_mb(d.proc.pid, "VmHWM")
        now = proc_mem_mb(d.proc.pid, "VmRSS")
        mem()
        return dict(secs=secs, cpu=cpu, rss=rss, now=now, stored=got,
                    at=sim_commands(sim), anon=mem.anon,
                    anon_end=proc_mem_mb(d.proc.pid, "RssAnon"))
    finally:
        if d:
            d.stop()
        sim.stop()


def gammu_config(tmp, device):
    conf = os.path.join(tmp, "smsdrc")
    with open(conf, "w") as f:
        f.write(f"""[gammu]
device = {device}
connection = at

[smsd]
service = sql
driver = sqlite3
database = smsd.db
dbdir = {tmp}/
logfile = {tmp}/smsd.log
debuglevel = 0
checksecurity = 0
checkbattery = 0
checksignal = 0
receivefrequency = 0
statusfrequency = 0
commtimeout = 1
sendtimeout = 30
""")
    return conf


def gammu_ready():
    """None if gammu-smsd with the libdbi SQLite driver can run here,
    else the reason."""
    if not shutil.which("gammu-smsd"):
        return ("gammu-smsd not installed "
                "(apt-get install gammu-smsd libdbd-sqlite3)")
    if not os.path.exists(GAMMU_SQL):
        return f"{GAMMU_SQL} missing (the SQLite schema of gammu-smsd)"
    drivers = ["/usr/lib/x86_64-linux-gnu/dbd/libdbdsqlite3.so",
               "/usr/lib/aarch64-linux-gnu/dbd/libdbdsqlite3.so"]
    if not any(os.path.exists(p) for p in drivers):
        r = subprocess.run(["dpkg", "-s", "libdbd-sqlite3"],
                           capture_output=True)
        if r.returncode != 0:
            return "libdbd-sqlite3 not installed (libdbi SQLite driver)"
    return None


def run_gammu(tmp, n, timeout):
    sim = H.Sim(tmp, profile="sim800", args=("--capacity", str(max(n, 30))))
    proc = None
    try:
        inject(sim, n)
        db = os.path.join(tmp, "smsd.db")
        with open(GAMMU_SQL) as f:
            schema = f.read()
        with sqlite3.connect(db) as c:
            c.executescript(schema)
        conf = gammu_config(tmp, sim.link)
        log = open(os.path.join(tmp, "smsd.out"), "w")
        t0 = time.monotonic()
        proc = subprocess.Popen(["gammu-smsd", "-c", conf],
                                stdout=log, stderr=log)

        def count():
            return count_rows(db, "SELECT count(*) FROM inbox")
        mem = MemSampler(proc.pid)
        got = wait_done(proc, sim, count, n, timeout, mem)
        secs = time.monotonic() - t0
        cpu = proc_cpu(proc.pid)
        rss = proc_mem_mb(proc.pid, "VmHWM")
        now = proc_mem_mb(proc.pid, "VmRSS")
        mem()
        return dict(secs=secs, cpu=cpu, rss=rss, now=now, stored=got,
                    at=sim_commands(sim), anon=mem.anon,
                    anon_end=proc_mem_mb(proc.pid, "RssAnon"))
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        sim.stop()


def store_files(db):
    return sum(os.path.getsize(db + ext) for ext in ("", "-wal")
               if os.path.exists(db + ext))


def outbox_state(db, after=0):
    """(inbound messages, outbound messages, outbound not yet final), of
    the messages with an id above `after` (a range on the rowid: cheap in
    a store of 1,000,000 messages)."""
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return c.execute(
                "SELECT sum(direction = 'in'), sum(direction = 'out'),"
                " sum(direction = 'out' AND status IN ('queued', 'sending'))"
                " FROM messages WHERE id > ?", (after,)).fetchone()
        finally:
            c.close()
    except sqlite3.Error:
        return (0, 0, 0)


def max_id(db):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute("SELECT coalesce(max(id), 0) FROM messages"
                         ).fetchone()[0]
    finally:
        c.close()


def clerk_requests(d, db):
    """The staff inbox's requests of bench/bigdb.py, each once, as a
    clerk opening the lists and searching would make them: they fill
    SQLite's page cache from a big store."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bigdb
    # max(id), not count(*): a count reads a whole index, and what this
    # script reads itself must not fill the page cache for simpuld (see
    # evict below). bigdb.py numbers its contacts 1..N.
    n = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute(
        "SELECT max(id) FROM contacts").fetchone()[0]
    for _label, path in bigdb.cases(d, n):
        bigdb.get(d, path)


def evict(path):
    """Drops a file just copied from the page cache. The copy leaves its
    pages cached as the kernel cached a sequential write: on this
    machine's kernel (6.18, ext4 with large folios) in folios of up to
    2 MiB, and `write_bytes` charges a whole folio when one byte of it is
    dirtied. A checkpoint's page written into such a folio was counted
    as 30 KB on average instead of 4. An office's store was not copied a
    second before simpuld starts: after a boot its pages are read from
    disk by simpuld's own reads, as they are after this."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def rest_of_wal(db):
    """Bytes written to copy what the WAL still holds into the database,
    by a checkpoint made here (another connection, as the daemon's own
    checkpoint thread is): simpuld copies its WAL once it holds 8 MiB, so
    a run that stops short of that left frames it would copy later. Each
    SMS is charged its share, as it was when SQLite checkpointed every
    1,000 frames inside simpuld."""
    import sqlite3
    io0 = proc_io(os.getpid())["write_bytes"]
    c = sqlite3.connect(db)
    try:
        c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        c.close()
    return proc_io(os.getpid())["write_bytes"] - io0


def run_live(tmp, n, timeout, rules, store=None, gap=0.0):
    """simpuld idle on an empty SIM, then N SMS arrive while it runs.
    Returns its idle memory, the peak during the burst, and what it wrote
    per SMS from the first arrival until every auto-reply is sent and the
    writes stop (/proc/PID/io and the store files' growth). With `store`
    (a store built by bench/bigdb.py), simpuld runs on a copy of it and
    the clerk's list and search requests are made after the idle
    reading, before the SMS arrive."""
    sim = H.Sim(tmp, profile="sim800", args=("--capacity", str(max(n, 30))))
    d = None
    try:
        rdir = None
        if rules == "office":
            rdir = os.path.join(tmp, "rules.d")
            os.mkdir(rdir)
            shutil.copy(os.path.join(TOP, "etc", "rules.d",
                                     "00-office.ini"), rdir)
        d = H.Daemon(tmp, modem_device=sim.link, rules_dir=rdir,
                     extra={"general": {"log_level": "info"}})
        if store:
            shutil.copy(store, d.db)
            evict(d.db)
        base = max_id(d.db) if store else 0
        d.start()
        pid = d.proc.pid
        # Idle: the modem is up and there is nothing to do.
        time.sleep(3)
        idle_anon = proc_mem_mb(pid, "RssAnon")
        idle_rss = proc_mem_mb(pid, "VmRSS")
        clerk_anon = None
        if store:
            clerk_requests(d, d.db)
            clerk_anon = proc_mem_mb(pid, "RssAnon")
        io0, cpu0, size0 = proc_io(pid), proc_cpu(pid), store_files(d.db)
        mem = MemSampler(pid)
        t0 = time.monotonic()
        for i in range(n):
            sim.sms(f"+62812{300000 + i:06d}", TEXTS[i % len(TEXTS)].format(i=i))
            if i % 10 == 0 or gap:
                mem()
            if gap:  # one at a time: each reply goes out before the next
                time.sleep(gap)
        end = time.monotonic() + timeout
        last, still = None, 0
        while time.monotonic() < end:
            mem()
            ins, outs, pending = (x or 0 for x in outbox_state(d.db, base))
            io = proc_io(pid)
            if ins >= n and not pending and not sim.stored():
                # done when nothing has been written for 0.5 s
                still = still + 1 if io["wchar"] == last else 0
                if still >= 10:
                    break
            last = io["wchar"]
            time.sleep(0.05)
        else:
            raise RuntimeError(f"not done after {timeout} s: {ins}/{n} in, "
                               f"{pending} replies pending")
        secs = time.monotonic() - t0 - 0.5
        io1 = proc_io(pid)
        per = {k: (io1[k] - io0[k]) / n
               for k in ("write_bytes", "wchar", "syscw")}
        rest = rest_of_wal(d.db) / n
        per["write_bytes"] += rest
        return dict(idle_anon=idle_anon, idle_rss=idle_rss,
                    clerk_anon=clerk_anon, rest=rest,
                    anon=mem.anon, rss=mem.rss, secs=secs,
                    cpu=proc_cpu(pid) - cpu0, replies=outs,
                    growth=(store_files(d.db) - size0) / n, **per)
    finally:
        if d:
            d.stop()
        sim.stop()


def live_report(a):
    print(f"live: simpuld idle on an empty SIM, then {a.n} SMS arrive "
          f"(rules: {a.rules}); {a.repeat} runs")
    runs = []
    for k in range(a.repeat):
        tmp = tempfile.mkdtemp(prefix="simpul-bench-live-")
        try:
            r = run_live(tmp, a.n, a.timeout, a.rules, a.db, a.gap)
            runs.append(r)
            clerk = ("" if r["clerk_anon"] is None else
                     f"after the clerk's requests {r['clerk_anon']:.2f} MB; ")
            print(f"  run {k + 1}: idle RssAnon {r['idle_anon']:.2f} MB "
                  f"(VmRSS {r['idle_rss']:.1f}); {clerk}peak RssAnon "
                  f"{r['anon']:.2f} MB (VmRSS {r['rss']:.1f}); "
                  f"{r['replies']} replies; {r['secs']:.2f} s, "
                  f"CPU {r['cpu']:.2f} s; per SMS: write_bytes "
                  f"{r['write_bytes'] / 1024:.1f} KB (the WAL's rest "
                  f"{r['rest'] / 1024:.1f} KB), wchar "
                  f"{r['wchar'] / 1024:.1f} KB, {r['syscw']:.1f} write "
                  f"calls, store growth {r['growth'] / 1024:.1f} KB",
                  flush=True)
        except Exception as e:
            print(f"  run {k + 1}: failed: {e} (logs in {tmp})")
            a.keep = True
        finally:
            if not a.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    if not runs:
        return
    m = {k: statistics.median(r[k] for r in runs)
         for k in runs[0] if runs[0][k] is not None}
    if a.db:
        print(f"\nstore: a copy of {a.db}, {os.path.getsize(a.db) >> 20} MB"
              f"; RssAnon after the clerk's requests {m['clerk_anon']:.2f} MB")
    print(f"\nmedian of {len(runs)}: idle RssAnon {m['idle_anon']:.2f} MB "
          f"of VmRSS {m['idle_rss']:.1f} MB; drain peak RssAnon "
          f"{m['anon']:.2f} MB of VmRSS {m['rss']:.1f} MB")
    print(f"  per inbound SMS with its auto-reply: write_bytes "
          f"{m['write_bytes'] / 1024:.1f} KB, wchar {m['wchar'] / 1024:.1f} "
          f"KB in {m['syscw']:.1f} write calls; store files grew "
          f"{m['growth'] / 1024:.1f} KB; CPU {m['cpu'] * 1000 / a.n:.2f} ms")


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return format(v, spec) if v is not None else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--only", choices=("simpul", "gammu"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directories (logs)")
    ap.add_argument("--live", action="store_true",
                    help="simpuld only: idle memory, then N SMS arriving "
                    "while it runs; peak RssAnon and bytes written per SMS")
    ap.add_argument("--gap", type=float, default=0.0,
                    help="for --live: seconds between two arrivals (default"
                    " 0: all at once; 1.5: one by one, as in an office)")
    ap.add_argument("--rules", choices=("office", "shipped"),
                    default="shipped",
                    help="rules for --live (default shipped: every SMS "
                    "gets its auto-reply)")
    ap.add_argument("--db", metavar="FILE",
                    help="for --live: run on a copy of this store (one "
                    "built by bench/bigdb.py --keep), with the clerk's "
                    "list and search requests before the SMS arrive")
    a = ap.parse_args()

    for exe in (H.SIMPULD, H.SIMPULCTL, H.MODEMSIM):
        if not os.path.exists(exe):
            sys.exit(f"{exe} missing: build first, set SIMPUL_BUILD")

    if a.live:
        live_report(a)
        return
    readers = []
    if a.only != "gammu":
        readers.append(("simpul", run_simpul))
    why_not = gammu_ready()
    if a.only != "simpul":
        if why_not:
            print(f"gammu-smsd skipped: {why_not}")
        else:
            readers.append(("gammu-smsd", run_gammu))

    print(f"drain {a.n} stored SMS, simulator profile sim800, "
          f"{a.repeat} runs each, {os.cpu_count()} CPUs")
    results = {}
    for name, fn in readers:
        runs = []
        for k in range(a.repeat):
            tmp = tempfile.mkdtemp(prefix=f"simpul-bench-{name}-")
            try:
                r = fn(tmp, a.n, a.timeout)
                runs.append(r)
                print(f"  {name} run {k + 1}: {r['secs']:.2f} s, "
                      f"cpu {r['cpu']:.2f} s, peak RSS {r['rss']:.1f} MB, "
                      f"RSS at end {r['now']:.1f} MB, "
                      f"RssAnon peak {r['anon']:.1f} MB, "
                      f"stored {r['stored']}/{a.n}, "
                      f"AT commands {fmt(r['at'], 'd')}", flush=True)
            except Exception as e:
                print(f"  {name} run {k + 1}: failed: {e} (logs in {tmp})",
                      flush=True)
                a.keep = True
            finally:
                if not a.keep:
                    shutil.rmtree(tmp, ignore_errors=True)
        if runs:
            results[name] = {key: median_of(runs, key)
                             for key in ("secs", "cpu", "rss", "now", "at",
                                         "anon", "anon_end")}

    print()
    print(f"{'median of ' + str(a.repeat):<14}{'seconds':>10}{'CPU s':>10}"
          f"{'peak RSS MB':>13}{'RSS end MB':>12}{'AT cmds':>10}"
          f"{'RssAnon pk':>12}{'RssAnon end':>12}")
    for name, m in results.items():
        print(f"{name:<14}{fmt(m['secs'], '.2f'):>10}{fmt(m['cpu'], '.3f'):>10}"
              f"{fmt(m['rss'], '.1f'):>13}{fmt(m['now'], '.1f'):>12}"
              f"{fmt(m['at'], '.0f'):>10}{fmt(m['anon'], '.1f'):>12}"
              f"{fmt(m['anon_end'], '.1f'):>12}")
    if "simpul" in results and "gammu-smsd" in results:
        s, g = results["simpul"], results["gammu-smsd"]

        def ratio(key):
            if not s[key] or g[key] is None:
                return "-"
            return f"{g[key] / s[key]:.1f}x"
        print(f"{'gammu/simpul':<14}{ratio('secs'):>10}{ratio('cpu'):>10}"
              f"{ratio('rss'):>13}{ratio('now'):>12}{ratio('at'):>10}"
              f"{ratio('anon'):>12}{ratio('anon_end'):>12}")
    elif "gammu-smsd" not in results and a.only != "simpul":
        print("(no gammu-smsd figures: see above why)")


if __name__ == "__main__":
    main()
