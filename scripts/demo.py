"""The demo: simpul on the modem simulator, fed with sample messages.

    scripts/demo [--port N] [--dir DIR]   start it; Ctrl-C stops it
    python3 scripts/demo.py sms FROM TEXT  a resident's SMS into the demo
    python3 scripts/demo.py wa FROM TEXT   a resident's WhatsApp message

Without --port it takes 8080, or a free port when 8080 is taken, and says
which. Every process it starts (simpul-modemsim, the fake Graph API,
simpuld) is stopped on any exit: Ctrl-C, SIGTERM, SIGHUP, or an error.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import harness  # noqa: E402

# One Ketua RT, so that "Minta konfirmasi RT" (and the rules with
# rt_confirm) reach someone: his phone is another number on the simulator.
RT_INI = """; The demo's rt.ini: one Ketua RT (see etc/rt.ini for the format).
[rt 03]
rw = 05
head = Pak Budi
phone = 0812-9999-0001
"""
RT_HEAD = "081299990001"
SAMPLES = [
    ("sms", "081234567890", "Assalamualaikum pak, mau urus KTP, saya warga RT 03"),
    ("sms", "081345678901", "jam buka kantor kelurahan?"),
    ("sms", "TELKOMSEL", "Sisa kuota Anda 1GB. Promo!"),
    ("wa", "6281234567890", "Ini foto KK saya pak"),
    ("wa", "6285711112222", "Lampu jalan di RT 03 mati sudah 3 hari"),
]


class DemoError(Exception):
    """A reason to stop that the user can act on: printed, no traceback."""


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def choose_port(asked):
    if asked is not None:
        if not port_free(asked):
            raise DemoError(f"port {asked} is taken; choose another with "
                            "--port N, or leave --port out")
        return asked
    if port_free(8080):
        return 8080
    port = harness.free_port()
    print(f"Port 8080 is taken: the demo uses port {port}.")
    return port


def my_children():
    """Live processes whose parent is this one (from /proc)."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(st[1]) == os.getpid() and st[0] != "Z":
            kids.append(int(d))
    return kids


def sweep():
    """A signal that came while a program was being started leaves it
    outside the list that is stopped: stop whatever is still a child."""
    def signal_all(sig):
        for pid in my_children():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    signal_all(signal.SIGTERM)
    try:
        harness.wait_for(lambda: not my_children(), timeout=5)
    except AssertionError:
        signal_all(signal.SIGKILL)


def on_signal(signum, frame):
    # SIGTERM and SIGHUP end the demo the way Ctrl-C does.
    raise KeyboardInterrupt


def send_samples(sim, d):
    for ch, frm, text in SAMPLES:
        if ch == "sms":
            sim.sms(frm, text)
        else:
            harness.post_webhook(d, harness.wa_text(
                f"wamid.demo{abs(hash(text))}", frm, text))
        print(f"  {ch:3} from {frm}: {text}")
    # Wait until every sample is in the store (the operator's SMS is
    # stored too, it is only never answered).
    harness.wait_for(lambda: len(d.inbox()) >= len(SAMPLES), timeout=60,
                     what="the sample messages in the inbox")


def start(a, procs):
    tmp = os.path.abspath(a.dir)
    os.makedirs(tmp, exist_ok=True)
    for f in ("simpul.db", "simpul.db-wal", "simpul.db-shm", "simpuld.log",
              "demo.json"):
        try:
            os.unlink(os.path.join(tmp, f))
        except OSError:
            pass
    port = choose_port(a.port)
    rt_file = os.path.join(tmp, "rt.ini")
    with open(rt_file, "w") as f:
        f.write(RT_INI)
    sim = harness.Sim(tmp)
    procs.append(sim)
    graph = harness.FakeGraph(tmp)
    procs.append(graph)
    d = harness.Daemon(tmp, modem_device=sim.link, graph_url=graph.url,
                       extra={"http": {"listen": f"127.0.0.1:{port}"},
                              "general": {"log_level": "info"},
                              "rt": {"file": rt_file}})
    d.port = port
    procs.append(d)
    try:
        d.start()
    except AssertionError:
        raise DemoError(f"simpuld did not start; its log: {d.log}")
    with open(os.path.join(tmp, "demo.json"), "w") as f:
        json.dump({"port": port, "sim_ctl": sim.ctl_path, "conf": d.conf,
                   "dir": tmp}, f)
    print(f"simpul is running on the modem simulator ({sim.pty}), "
          f"port {port}.")
    r = subprocess.run([harness.SIMPULCTL, "-c", d.conf, "user", "add",
                        "petugas", "--role", "admin"], input="simpul-demo\n",
                       text=True, capture_output=True)
    if r.returncode != 0 and "exist" not in r.stderr + r.stdout:
        raise DemoError("simpulctl user add: " + (r.stderr or r.stdout).strip())
    send_samples(sim, d)
    print()
    print(d.ctl("inbox").stdout)
    print("Look here:")
    print(f"  staff inbox:  http://127.0.0.1:{port}/  "
          "(login: petugas / simpul-demo)")
    print(f"  the inbox:    {harness.SIMPULCTL} -c {d.conf} inbox")
    print(f"  RT requests:  {harness.SIMPULCTL} -c {d.conf} rt list --all "
          f"(Ketua RT 03: Pak Budi, {RT_HEAD})")
    print(f"  daemon log:   {d.log}")
    print("Send a test SMS: scripts/demo sms 081234567890 'Halo, mau tanya "
          "syarat KK'   (WhatsApp: scripts/demo wa 6281234567890 '...')")
    print("Ctrl-C stops the demo.")
    while True:
        signal.pause()


def run(a):
    procs = []
    rc = 0
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    # A shell starts a background job with SIGINT ignored, and Python then
    # leaves it so: the demo started from a script ('scripts/demo &')
    # would ignore Ctrl-C and 'kill -INT' for good.
    signal.signal(signal.SIGINT, on_signal)
    try:
        start(a, procs)
    except KeyboardInterrupt:
        print("\nStopping the demo.")
    except DemoError as e:
        print(f"demo: {e}", file=sys.stderr)
        rc = 1
    except Exception as e:  # a bug or a broken build: say it in one line
        print(f"demo: {type(e).__name__}: {e}", file=sys.stderr)
        rc = 1
    finally:
        # No second signal may cut the clean-up short.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT,
                                                  signal.SIGTERM,
                                                  signal.SIGHUP})
        for p in reversed(procs):
            try:
                p.stop()
            except Exception:
                if getattr(p, "proc", None) and p.proc.poll() is None:
                    p.proc.kill()
        sweep()
        try:  # "demo sms/wa" now says that no demo runs
            os.unlink(os.path.join(os.path.abspath(a.dir), "demo.json"))
        except OSError:
            pass
    return rc


def inject(a):
    try:
        with open(os.path.join(a.dir, "demo.json")) as f:
            st = json.load(f)
    except OSError:
        print("demo: no demo is running (start it with scripts/demo)",
              file=sys.stderr)
        return 1
    try:
        if a.cmd == "sms":
            sim = harness.Sim.__new__(harness.Sim)
            sim.ctl_path = st["sim_ctl"]
            sim.sms(a.sender, a.text)
        else:
            d = harness.Daemon.__new__(harness.Daemon)
            d.port = st["port"]
            status, body = harness.post_webhook(d, harness.wa_text(
                f"wamid.demo{os.getpid()}{abs(hash(a.text))}", a.sender,
                a.text))
            if status != 200:
                raise DemoError(f"webhook answered {status}")
    except (OSError, RuntimeError, DemoError) as e:
        print(f"demo: not sent: {e}", file=sys.stderr)
        return 1
    print(f"sent by {a.cmd} from {a.sender}: {a.text}")
    return 0


def main():
    ap = argparse.ArgumentParser(prog="scripts/demo")
    ap.add_argument("--port", type=int,
                    help="HTTP port (default 8080, or a free one)")
    ap.add_argument("--dir", default=os.path.join(TOP, ".demo"),
                    help="where the demo keeps its files (default .demo)")
    sub = ap.add_subparsers(dest="cmd")
    for ch in ("sms", "wa"):
        p = sub.add_parser(ch, help="a resident's " + (
            "SMS" if ch == "sms" else "WhatsApp message") + " into the demo")
        p.add_argument("sender")
        p.add_argument("text", nargs="+")
    a = ap.parse_args()
    if a.cmd:
        a.text = " ".join(a.text)
        sys.exit(inject(a))
    sys.exit(run(a))


if __name__ == "__main__":
    main()
