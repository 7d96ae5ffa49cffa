#!/usr/bin/env python3
"""The city hub's throughput (issue 20). A benchmark: prints figures,
asserts nothing. Real mosquitto, real PostgreSQL (fsync on, as in
production), the real simpul-hub, and simpul-evsim (the office's real
event log and MQTT publisher in the real poll loop).

1. one Pi: N events logged while offline, then published; the clock runs
   from the publisher's start until the broker has acknowledged all of
   them (events/s out of one office);
2. one hub: OFFICES offices with M events each publish at once; the clock
   runs from their start until PostgreSQL holds all of them (events/s
   into one hub);
3. catch-up: one office offline for a week (7 x 800 = 5,600 events, see
   hub/README.md) comes back; the clock runs until PostgreSQL holds them.

    SIMPUL_BUILD=build python3 bench/hub.py [--events 20000]
        [--offices 20] [--each 2000] [--week 5600]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import test_hub  # noqa: E402
from harness import free_port, wait_for  # noqa: E402


def hub_up(port):
    try:
        return urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz").read() == b"ok\n"
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--offices", type=int, default=20)
    ap.add_argument("--each", type=int, default=2000)
    ap.add_argument("--week", type=int, default=5600)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="simpul-bench-hub-")
    pg = test_hub.Postgres(tmp, fsync=True)
    broker = test_hub.Broker(tmp)
    http = free_port()
    conf = os.path.join(tmp, "hub.conf")
    with open(conf, "w") as fh:
        fh.write(f"[postgres]\nconninfo = {pg.conninfo}\n[mqtt]\n"
                 f"port = {broker.port}\nclient_id = bench\n"
                 f"[http]\nport = {http}\n")
    hub = subprocess.Popen([test_hub.HUB, "--config", conf],
                           stderr=subprocess.DEVNULL)
    procs = []
    try:
        wait_for(lambda: hub_up(http), what="hub subscribed")

        def office(name, n):
            db = os.path.join(tmp, name + ".db")
            subprocess.run([test_hub.EVSIM, "--db", db, "--office", name,
                            "--port", str(broker.port), "--events", str(n),
                            "--offline"], check=True)
            return [test_hub.EVSIM, "--db", db, "--office", name, "--port",
                    str(broker.port), "--events", str(n)]

        # 1. one Pi
        argv = office("pi-1", a.events)
        t0 = time.monotonic()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        t = time.monotonic() - t0
        print(f"one Pi: {a.events} events acknowledged by the broker in "
              f"{t:.2f} s: {a.events / t:.0f} events/s")
        base = a.events
        wait_for(lambda: pg.count() >= base, timeout=600, what="pi-1 in")

        # 2. one hub
        argvs = [office(f"load-{i:02d}", a.each) for i in range(a.offices)]
        total = base + a.offices * a.each
        t0 = time.monotonic()
        procs = [subprocess.Popen(v, stdout=subprocess.DEVNULL)
                 for v in argvs]
        wait_for(lambda: pg.count() >= total, timeout=3600, interval=0.02,
                 what="all offices in PostgreSQL")
        t = time.monotonic() - t0
        n = a.offices * a.each
        print(f"one hub: {n} events from {a.offices} offices into "
              f"PostgreSQL in {t:.2f} s: {n / t:.0f} events/s")
        for p in procs:
            p.wait()

        # 3. a week's backlog of one office
        argv = office("week", a.week)
        total += a.week
        t0 = time.monotonic()
        procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL)]
        wait_for(lambda: pg.count() >= total, timeout=3600, interval=0.02,
                 what="the week in PostgreSQL")
        t = time.monotonic() - t0
        print(f"catch-up: a week's backlog of one office ({a.week} events) "
              f"in PostgreSQL after {t:.2f} s")
        procs[0].wait()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        hub.terminate()
        hub.wait()
        broker.stop()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
