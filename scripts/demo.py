"""The demo: simpul on the modem simulator, fed with sample messages."""
import json
import os
import signal
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
import harness  # noqa: E402


def main():
    port = int(os.environ.get("SIMPUL_DEMO_PORT", "8080"))
    tmp = os.path.join(TOP, ".demo")
    os.makedirs(tmp, exist_ok=True)
    for f in ("simpul.db", "simpul.db-wal", "simpul.db-shm", "simpuld.log"):
        try:
            os.unlink(os.path.join(tmp, f))
        except OSError:
            pass
    sim = harness.Sim(tmp)
    graph = harness.FakeGraph(tmp)
    d = harness.Daemon(tmp, modem_device=sim.link, graph_url=graph.url,
                       extra={"http": {"listen": f"127.0.0.1:{port}"},
                              "general": {"log_level": "info"}})
    d.port = port
    d.start()
    print(f"simpul is running on the modem simulator ({sim.pty}).")
    import subprocess
    subprocess.run([harness.SIMPULCTL, "-c", d.conf, "user", "add", "petugas",
                    "--role", "admin"],
                   input="simpul-demo\n", text=True, capture_output=True)
    samples = [
        ("sms", "081234567890", "Assalamualaikum pak, mau tanya syarat KTP"),
        ("sms", "081345678901", "jam buka kantor kelurahan?"),
        ("sms", "TELKOMSEL", "Sisa kuota Anda 1GB. Promo!"),
        ("wa", "6281234567890", "Ini foto KK saya pak"),
        ("wa", "6285711112222", "Lampu jalan di RT 03 mati sudah 3 hari"),
    ]
    for ch, frm, text in samples:
        if ch == "sms":
            sim.sms(frm, text)
        else:
            harness.post_webhook(d, harness.wa_text(
                f"wamid.demo{abs(hash(text))}", frm, text))
        print(f"  {ch:3} from {frm}: {text}")
    time.sleep(3)
    print()
    print(d.ctl("inbox").stdout)
    print("Look here:")
    print(f"  staff inbox:  http://127.0.0.1:{port}/  "
          "(login: petugas / simpul-demo)")
    print(f"  the inbox:    {harness.SIMPULCTL} -c {d.conf} inbox")
    print(f"  send an SMS:  {harness.SIMPULCTL} -c {d.conf} send --channel sms "
          "--to 081234567890 'Halo'")
    print(f"  what the modem sent: the simulator's 'sent' command "
          f"(socket {sim.ctl_path})")
    print(f"  daemon log:   {d.log}")
    print("Ctrl-C stops simpul.")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        d.stop()
        graph.stop()
        sim.stop()


if __name__ == "__main__":
    main()
