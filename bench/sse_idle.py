#!/usr/bin/env python3
"""simpuld's CPU with N staff tabs open and nothing happening (issue 16).

Starts simpuld (no modem, WhatsApp to nowhere), logs in, opens N
Server-Sent Event streams as N browser tabs would (GET /api/v1/events),
then reads simpuld's CPU time (user+sys, /proc/PID/stat) at the start and
the end of a quiet window and prints the ticks spent, the share of one
core, and how many bytes each stream received (the "retry" line, the
first event and the heartbeats: one per 25 s). Asserts nothing.

    SIMPUL_BUILD=build python3 bench/sse_idle.py [TABS=10] [SECONDS=60]
"""
import os
import socket
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import harness as H  # noqa: E402
from test_api import Client, add_user  # noqa: E402


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])  # utime + stime


def main():
    tabs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    tmp = tempfile.mkdtemp(prefix="simpul-bench-sse-")
    d = H.Daemon(tmp).start()
    try:
        assert add_user(d, "siti", "admin").returncode == 0
        c = Client(d)
        assert c.login()[0] == 200
        cookie = "; ".join(f"{k.name}={k.value}" for k in c.jar)
        streams = []
        for _ in range(tabs):
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n"
                       f"Cookie: {cookie}\r\n\r\n").encode())
            streams.append(s)
        for s in streams:  # every tab got its first event
            buf = b""
            while b"event: change" not in buf:
                buf += s.recv(4096)
            s.setblocking(False)
        pid = d.proc.pid
        t0, c0 = time.monotonic(), cpu_ticks(pid)
        got = [0] * tabs
        while time.monotonic() - t0 < secs:
            time.sleep(1)
            for i, s in enumerate(streams):
                try:
                    got[i] += len(s.recv(4096))
                except BlockingIOError:
                    pass
        t1, c1 = time.monotonic(), cpu_ticks(pid)
        hz = os.sysconf("SC_CLK_TCK")
        used = (c1 - c0) / hz
        print(f"{tabs} tabs, {t1 - t0:.0f} s quiet: simpuld used "
              f"{c1 - c0} ticks ({used:.3f} s CPU, "
              f"{100 * used / (t1 - t0):.2f} % of one core); "
              f"bytes per tab in the window: {sorted(set(got))}")
        for s in streams:
            s.close()
    finally:
        d.stop()


if __name__ == "__main__":
    main()
