#!/usr/bin/env python3
"""Signed WhatsApp webhook POSTs against simpuld: requests per second and
p50/p99 latency at C concurrent keep-alive connections, every request
durably committed (WAL, synchronous=FULL; the daemon answers 200 only after
the group commit that holds the message).

simpuld runs with the modem disabled and WhatsApp on, graph_url pointing
at tests/fakegraph.py, on loopback. Bodies are Meta-shaped text messages
(harness.wa_text) with unique wamids, signed with HMAC-SHA256 beforehand
so the clock measures the daemon, not the client's hashing.

Two clients:
  python  C threads, one http.client keep-alive connection each, spread
          over P processes (--procs) so the GIL is not the bottleneck;
  wrk     (Debian package wrk) with a Lua script that sends a pool of
          pre-signed bodies, each once; skipped if wrk is missing.

Afterwards the store is read back (simpulctl inbox --json) and a line says
whether every request answered 200 is stored exactly once. A benchmark,
not a test: it prints figures and asserts nothing.

    SIMPUL_BUILD=build python3 bench/webhooks.py [-c 16] [-d 10] [-n 5000]
"""
import argparse
import collections
import http.client
import json
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import harness as H  # noqa: E402

TEXTS = [
    "Selamat pagi, mohon info syarat membuat KTP elektronik untuk anak "
    "saya yang baru 17 tahun",
    "Pak, lampu jalan di gang Melati RT 003/005 mati sudah tiga malam",
    "Terima kasih bu atas bantuannya, surat pengantar sudah saya terima 🙏",
    "Mau tanya jam buka kantor kelurahan hari Sabtu?",
    "Sampah di depan pos ronda menumpuk, mohon segera diangkut",
    "Bagaimana cara mengurus surat keterangan tidak mampu (SKTM)?",
    "Jadwal posyandu balita bulan ini tanggal berapa ya?",
    "Saya mau lapor warga baru pindah datang di RT 002",
]


def make_bodies(tag, start, count, senders):
    """[(wamid, text, body bytes, signature)] with unique wamids."""
    out = []
    now = int(time.time())
    for i in range(start, start + count):
        wamid = f"wamid.bench.{tag}.{i}"
        text = f"{TEXTS[i % len(TEXTS)]} #{tag}.{i}"
        frm = f"62812{500000 + i % senders:06d}"
        body = json.dumps(H.wa_text(wamid, frm, text, name=f"Warga {i % senders}",
                                    ts=now)).encode()
        out.append((wamid, text, body, H.sign(body)))
    return out


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, round(p / 100 * len(sorted_vals)) - 1))
    return sorted_vals[k]


# ---- python client ------------------------------------------------------

def client_proc(port, jobs, deadline, q):
    """One process: len(jobs) threads, each with its own connection and
    its own list of bodies. Puts (text, status, latency_s) tuples."""
    results = []
    lock = threading.Lock()

    def worker(items):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _, text, body, sig in items:
            if time.time() > deadline:
                break
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/webhook/whatsapp", body, {
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sig})
                r = conn.getresponse()
                r.read()
                st = r.status
            except (OSError, http.client.HTTPException):
                st = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=30)
            mine.append((text, st, time.perf_counter() - t0))
        conn.close()
        with lock:
            results.extend(mine)

    ts = [threading.Thread(target=worker, args=(items,)) for items in jobs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put(results)


def run_python(d, bodies, conns, procs, duration):
    # Round-robin the bodies over the connections, connections over
    # processes.
    per_conn = [bodies[k::conns] for k in range(conns)]
    groups = [per_conn[p::procs] for p in range(procs)]
    q = mp.Queue()
    # Deadline as wall time, shared by the processes.
    t0 = time.perf_counter()
    deadline = time.time() + duration
    ps = [mp.Process(target=client_proc, args=(d.port, g, deadline, q))
          for g in groups if g]
    for p in ps:
        p.start()
    results = []
    for _ in ps:
        results.extend(q.get())
    for p in ps:
        p.join()
    wall = time.perf_counter() - t0
    return results, wall


# ---- wrk ----------------------------------------------------------------

WRK_LUA = r"""
-- Each wrk thread reads its own file of pre-signed bodies (one JSON body
-- and its X-Hub-Signature-256 per pair of lines) and sends each once;
-- when its pool runs out it repeats from the start (counted as "reused":
-- the daemon dedupes those on the wamid).
local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   pool = {}
   local f = assert(io.open(args[1] .. "/bodies." .. tid, "r"))
   while true do
      local body = f:read("*l")
      local sig = f:read("*l")
      if not body or not sig then break end
      pool[#pool + 1] = {body, sig}
   end
   f:close()
   idx = 0
   reused = 0
   non200 = 0
end

function request()
   idx = idx + 1
   if idx > #pool then
      idx = 1
      reused = reused + 1
   end
   local b = pool[idx]
   return wrk.format("POST", "/webhook/whatsapp",
      {["Content-Type"] = "application/json",
       ["X-Hub-Signature-256"] = b[2]}, b[1])
end

function response(status, headers, body)
   if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
   local used, rw, bad = 0, 0, 0
   for _, t in ipairs(threads) do
      local i = t:get("idx") or 0
      local r = t:get("reused") or 0
      rw = rw + r
      bad = bad + (t:get("non200") or 0)
      used = used + i
   end
   io.write(string.format(
      "WRKRESULT requests=%d duration_us=%d p50_us=%d p99_us=%d " ..
      "max_us=%d non200=%d wraps=%d errors=%d\n",
      summary.requests, summary.duration, latency:percentile(50),
      latency:percentile(99), latency.max, bad, rw,
      summary.errors.connect + summary.errors.read + summary.errors.write +
      summary.errors.timeout))
end
"""


def run_wrk(d, tag, conns, threads, duration, pool_per_thread, senders, tmp):
    wdir = os.path.join(tmp, "wrk")
    os.mkdir(wdir)
    texts = []
    for t in range(threads):
        items = make_bodies(f"{tag}t{t}", 0, pool_per_thread, senders)
        with open(os.path.join(wdir, f"bodies.{t}"), "wb") as f:
            for _, text, body, sig in items:
                # json.dumps output has no raw newlines.
                f.write(body + b"\n" + sig.encode() + b"\n")
        texts.extend(text for _, text, _, _ in items)
    script = os.path.join(wdir, "webhook.lua")
    with open(script, "w") as f:
        f.write(WRK_LUA)
    r = subprocess.run(["wrk", "-t", str(threads), "-c", str(conns),
                        "-d", f"{max(1, round(duration))}s", "--timeout", "30s",
                        "-s", script, d.url("/webhook/whatsapp"), "--", wdir],
                       capture_output=True, text=True, timeout=duration + 120)
    line = next((x for x in r.stdout.splitlines()
                 if x.startswith("WRKRESULT")), None)
    if not line:
        raise RuntimeError(f"wrk gave no result: {r.stdout}{r.stderr}")
    kv = dict(x.split("=") for x in line.split()[1:])
    return {k: int(v) for k, v in kv.items()}, set(texts)


# ---- the stdlib-Python receiver ------------------------------------------

# What a user would write instead of simpul: verify the signature, store
# the message durably (WAL, synchronous=FULL, one commit per request,
# exactly once by wamid), answer 200. No rules, no replies.
PY_RECEIVER = r"""
import hashlib, hmac, json, sqlite3, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
SECRET, DB = sys.argv[1].encode(), sys.argv[2]
lock = threading.Lock()
db = sqlite3.connect(DB, check_same_thread=False, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY,"
           " wamid TEXT UNIQUE, sender TEXT, body TEXT, at INTEGER)")

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        sig = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, self.headers.get(
                "X-Hub-Signature-256", "")):
            return self.reply(401)
        rows = []
        for e in json.loads(body).get("entry", []):
            for c in e.get("changes", []):
                for m in c.get("value", {}).get("messages", []):
                    rows.append((m["id"], m["from"],
                                 m.get("text", {}).get("body", ""),
                                 int(m.get("timestamp", 0))))
        with lock:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR IGNORE INTO messages(wamid, sender,"
                           " body, at) VALUES (?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        self.reply(200)

srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), H)
print("ready", flush=True)
srv.serve_forever()
"""


class PyReceiver:
    """The receiver above as a process; quacks like H.Daemon for the
    clients (port, url, proc) and counts what it stored."""

    def __init__(self, tmp):
        self.port = H.free_port()
        self.db = os.path.join(tmp, "pyrecv.db")
        script = os.path.join(tmp, "pyrecv.py")
        with open(script, "w") as f:
            f.write(PY_RECEIVER)
        self.proc = subprocess.Popen(
            [sys.executable, script, H.APP_SECRET, self.db, str(self.port)],
            stdout=subprocess.PIPE, text=True,
            stderr=open(os.path.join(tmp, "pyrecv.log"), "w"))
        self.proc.stdout.readline()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def counts(self):
        import sqlite3
        c = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return collections.Counter(dict(c.execute(
                "SELECT body, count(*) FROM messages GROUP BY body")))
        finally:
            c.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


# ---- the store ----------------------------------------------------------

def stored_counts_db(d):
    """The same count read straight from the database (read-only): the
    API caps --limit at 10,000 and a wrk run stores more."""
    import sqlite3
    c = sqlite3.connect(f"file:{d.db}?mode=ro", uri=True, timeout=30)
    try:
        return collections.Counter(dict(c.execute(
            "SELECT body, count(*) FROM messages WHERE direction = 'in'"
            " AND channel = 'whatsapp' GROUP BY body")))
    finally:
        c.close()


def start_daemon(tmp, rules):
    g = H.FakeGraph(tmp)
    rdir = None
    if rules == "none":
        # The office section only: no auto-replies, so only the webhook
        # path is measured.
        rdir = os.path.join(tmp, "rules.d")
        os.mkdir(rdir)
        shutil.copy(os.path.join(TOP, "etc", "rules.d", "00-office.ini"),
                    rdir)
    d = H.Daemon(tmp, graph_url=g.url, rules_dir=rdir,
                 extra={"general": {"log_level": "info"}})
    # The tests' pinned clock is a file simpuld opens at each reading of
    # the wall clock (daemon/core/clock.c): a failed open() per reading,
    # ~0.5 per webhook, that a daemon in an office never makes.
    d.env.pop("SIMPUL_FAKE_CLOCK_FILE", None)
    d.start()
    return g, d


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_python(a, tmp, target="simpul", rules=None):
    """The python client against simpuld (rules: none or shipped) or
    against the stdlib-Python receiver (target "pyrecv")."""
    if target == "pyrecv":
        g, d = None, PyReceiver(tmp)
    else:
        g, d = start_daemon(tmp, rules or a.rules)
    try:
        print(f"preparing {a.requests} signed bodies...", flush=True)
        bodies = make_bodies("py", 0, a.requests, a.senders)
        cpu0 = proc_cpu(d.proc.pid)
        results, wall = run_python(d, bodies, a.connections, a.procs,
                                   a.duration)
        cpu = proc_cpu(d.proc.pid) - cpu0
        ok = [r for r in results if r[1] == 200]
        lat = sorted(r[2] for r in ok)
        statuses = collections.Counter(r[1] for r in results)
        name = "python receiver" if target == "pyrecv" else \
            f"simpuld, rules {rules or a.rules}"
        print(f"\n{name} / python client: {a.connections} connections "
              f"({a.procs} processes), {len(results)} requests in "
              f"{wall:.2f} s")
        print(f"  {len(ok) / wall:8.0f} requests/s answered 200")
        print(f"  latency p50 {percentile(lat, 50) * 1000:.2f} ms, "
              f"p99 {percentile(lat, 99) * 1000:.2f} ms, "
              f"max {lat[-1] * 1000 if lat else float('nan'):.2f} ms")
        print(f"  statuses {dict(statuses)}; server CPU {cpu:.2f} s "
              f"({cpu / wall * 100:.0f}% of one core)")
        # From the database: with replies in the inbox an API page of
        # len(results) would not reach every inbound message.
        got = d.counts() if target == "pyrecv" else stored_counts_db(d)
        ok_texts = [r[0] for r in ok]
        missing = sum(1 for t in ok_texts if got.get(t, 0) == 0)
        dup = sum(1 for t in ok_texts if got.get(t, 0) > 1)
        print(f"  correctness: {len(ok_texts)} answered 200, "
              f"{len(ok_texts) - missing - dup} stored exactly once, "
              f"{missing} missing, {dup} stored more than once; "
              f"{sum(got.values())} whatsapp messages in the store")
        return len(ok) / wall, percentile(lat, 50), percentile(lat, 99)
    finally:
        d.stop()
        if g:
            g.stop()


def compare(a):
    """simpuld with the shipped rules, with none, and the Python receiver,
    one after the other, --repeat times; medians and ratios."""
    targets = [("simpul shipped", "simpul", "shipped"),
               ("simpul none", "simpul", "none"),
               ("python recv", "pyrecv", None)]
    runs = {name: [] for name, _, _ in targets}
    for k in range(a.repeat):
        for name, target, rules in targets:
            tmp = tempfile.mkdtemp(prefix="simpul-bench-wh-cmp-")
            try:
                fn = bench_wrk if a.client == "wrk" else bench_python
                runs[name].append(fn(a, tmp, target, rules))
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nmedian of {a.repeat} rounds ({a.client} client, "
          f"{a.connections} connections)")
    print(f"{'server':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
          f"{'p99 range ms':>18}")
    med = {}
    for name, rs in runs.items():
        med[name] = [statistics.median(r[i] for r in rs) for i in range(3)]
        p99s = sorted(r[2] * 1000 for r in rs)
        print(f"{name:<16}{med[name][0]:10.0f}{med[name][1] * 1000:10.2f}"
              f"{med[name][2] * 1000:10.2f}"
              f"{p99s[0]:9.1f}-{p99s[-1]:.1f}")
    py = med["python recv"][0]
    for name in ("simpul shipped", "simpul none"):
        print(f"{name} / python receiver: {med[name][0] / py:.2f}x req/s")


def bench_wrk(a, tmp, target="simpul", rules=None):
    if not shutil.which("wrk"):
        print("\nwrk: not installed (apt-get install wrk); skipped")
        return None
    if target == "pyrecv":
        g, d = None, PyReceiver(tmp)
    else:
        g, d = start_daemon(tmp, rules or a.rules)
    try:
        threads = min(a.wrk_threads, a.connections)
        pool = a.wrk_pool // threads
        print(f"\npreparing {pool * threads} signed bodies for wrk...",
              flush=True)
        cpu0 = proc_cpu(d.proc.pid)
        res, texts = run_wrk(d, "wrk", a.connections, threads, a.duration,
                             pool, a.senders, tmp)
        cpu = proc_cpu(d.proc.pid) - cpu0
        secs = res["duration_us"] / 1e6
        rps = res["requests"] / secs
        name = "python receiver" if target == "pyrecv" else \
            f"simpuld, rules {rules or a.rules}"
        print(f"{name} / wrk: {a.connections} connections, {threads} threads, "
              f"{res['requests']} requests in {secs:.2f} s")
        print(f"  {rps:8.0f} requests/s "
              f"({res['non200']} not 200, {res['errors']} socket errors, "
              f"pool wrapped {res['wraps']} times)")
        print(f"  latency p50 {res['p50_us'] / 1000:.2f} ms, "
              f"p99 {res['p99_us'] / 1000:.2f} ms, "
              f"max {res['max_us'] / 1000:.2f} ms; server CPU {cpu:.2f} s "
              f"({cpu / secs * 100:.0f}% of one core)")
        got = d.counts() if target == "pyrecv" else stored_counts_db(d)
        ours = sum(got.get(t, 0) for t in texts)
        dup = sum(1 for t in texts if got.get(t, 0) > 1)
        # wrk does not say which requests were answered; requests cut off
        # at the end of the run may still have been stored.
        lo = res["requests"] - res["non200"]
        hi = res["requests"] + a.connections
        fits = "yes" if lo <= ours <= hi and not dup else "NO"
        print(f"  correctness (database read directly): "
              f"{res['requests']} completed requests, {ours} bodies "
              f"stored, {dup} stored more than once; within "
              f"[completed - non-200, completed + connections] = "
              f"[{lo}, {hi}]: {fits}")
        return rps, res["p50_us"] / 1e6, res["p99_us"] / 1e6
    finally:
        d.stop()
        if g:
            g.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-c", "--connections", type=int, default=16)
    ap.add_argument("-d", "--duration", type=float, default=10,
                    help="seconds at most per client (default 10)")
    ap.add_argument("-n", "--requests", type=int, default=5000,
                    help="requests at most, python client (default 5000)")
    ap.add_argument("--procs", type=int, default=4,
                    help="client processes for the python client")
    ap.add_argument("--senders", type=int, default=500,
                    help="distinct residents (wa_id) in the bodies")
    ap.add_argument("--rules", choices=("none", "shipped"), default="none",
                    help="none: no auto-replies (default); shipped: "
                    "etc/rules.d, replies queued to the fake Graph API")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--wrk-pool", type=int, default=100000,
                    help="signed bodies prepared for wrk (default 100000)")
    ap.add_argument("--client", choices=("python", "wrk", "both"),
                    default="both")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--vs-python", action="store_true",
                    help="simpuld with the shipped "
                    "rules, with none, and a stdlib-Python receiver that "
                    "only stores, one after the other, --repeat rounds, "
                    "with --client python (default) or wrk")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    for exe in (H.SIMPULD, H.SIMPULCTL):
        if not os.path.exists(exe):
            sys.exit(f"{exe} missing: build first, set SIMPUL_BUILD")
    print(f"signed webhooks, durable group commits, loopback, "
          f"{os.cpu_count()} CPUs, rules: {a.rules}")
    if a.vs_python:
        if a.client == "both":
            a.client = "python"
        compare(a)
        return
    rows = []
    for name, fn in (("python", bench_python), ("wrk", bench_wrk)):
        if a.client not in (name, "both"):
            continue
        tmp = tempfile.mkdtemp(prefix=f"simpul-bench-wh-{name}-")
        try:
            r = fn(a, tmp)
            if r:
                rows.append((name, *r))
        finally:
            if a.keep:
                print(f"  (kept {tmp})")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"{'client':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, rps, p50, p99 in rows:
        print(f"{name:<10}{rps:10.0f}{p50 * 1000:10.2f}{p99 * 1000:10.2f}")


if __name__ == "__main__":
    main()
