#!/usr/bin/env python3
"""Browser test of the staff inbox (issues 6 and 16): runs tests/browser/
inbox.spec.mjs (node + playwright-core + Debian's chromium) against the
real simpuld with the modem simulator and the fake Graph API. Screenshots
go to tests/artifacts/."""
import calendar
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from test_api import add_user  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
XSS = "<img src=x onerror=alert(1)>"


def node_modules_ready():
    pc = os.path.join(H.TOP, "node_modules", "playwright-core")
    if os.path.isdir(pc):
        return True
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=H.TOP,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise AssertionError("npm ci failed (playwright-core is needed):\n"
                             + r.stdout + r.stderr)
    return True


class Browser(H.Case):
    def test_inbox_in_chromium(self):
        if not shutil.which("node"):
            self.fail("node is not installed (apt-get install nodejs npm)")
        if not os.path.exists(CHROMIUM):
            self.fail(f"{CHROMIUM} missing (apt-get install chromium)")
        node_modules_ready()
        # The daemon's clock: October 2026 while the report's month is
        # seeded, then Tuesday 24 November 2026, 10:00 WITA (office open).
        clock = self.pin(calendar.timegm(OCTOBER))
        os.environ["SIMPUL_FAKE_CLOCK_FILE"] = clock
        self.addCleanup(os.environ.pop, "SIMPUL_FAKE_CLOCK_FILE", None)
        g = self.graph()
        sim = self.sim()
        rt_ini = os.path.join(self.tmp, "rt.ini")
        with open(rt_ini, "w") as f:
            f.write("[rt 03]\nrw = 05\nhead = Pak Budi\n"
                    "phone = 0812-9999-0001\n")
        d = self.daemon(graph_url=g.url, modem_device=sim.link,
                        extra={"rt": {"file": rt_ini}}).start()
        self.assertEqual(add_user(d, "siti", "admin").returncode, 0)
        self.assertEqual(add_user(d, "budi", "staff").returncode, 0)
        seed_october(d)
        self.pin(calendar.timegm(NOVEMBER))
        # Rina writes on WhatsApp, then by SMS from the same number.
        st, _ = H.post_webhook(d, H.wa_text(
            "wamid.br1", "6281900000001", "Halo dari WA", name="Rina",
            ts=int(H.now()) - 5))
        self.assertEqual(st, 200)
        sim.sms("+6281900000001", "Halo dari SMS")
        # Markup from a resident, on both channels.
        sim.sms("+6281900000009", XSS)
        H.post_webhook(d, H.wa_text("wamid.br2", "6281900000009", XSS))
        # A question the rules answer, a promo, a resident to look for.
        sim.sms("+6281300000011", "jam buka kantor kapan?")
        sim.sms("TELKOMSEL", "Nikmati kuota 10GB hanya Rp10rb")
        H.post_webhook(d, H.wa_text("wamid.br3", "6281355550001",
                                    "Selamat pagi, mau tanya surat pindah",
                                    name="Sari Wulandari"))
        H.wait_for(lambda: sum(1 for m in d.inbox()
                               if m["channel"] == "sms"
                               and m["direction"] == "in") >= 4,
                   timeout=60, what="the SMS stored")
        art = os.path.join(H.TOP, "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        env = dict(os.environ, SIMPUL_URL=d.url("").rstrip("/"),
                   SIMPUL_USER="siti", SIMPUL_PASSWORD="rahasia-kantor-1",
                   SIM_CTL=sim.ctl_path, ARTIFACTS=art, CHROMIUM=CHROMIUM,
                   SIMPUL_PID=str(d.proc.pid),
                   SEEDED=json.dumps(SEEDED))
        r = subprocess.run(
            ["node", os.path.join(H.TOP, "tests", "browser",
                                  "inbox.spec.mjs")],
            cwd=H.TOP, env=env, capture_output=True, text=True, timeout=900)
        print(r.stdout + r.stderr)
        self.assertEqual(r.returncode, 0, "browser test failed; see above "
                         "and tests/artifacts/failure.png")
        for width in (360, 1366):
            for view in VIEWS:
                p = os.path.join(art, f"{view}-{width}.png")
                self.assertTrue(os.path.exists(p) and os.path.getsize(p),
                                f"screenshot {p}")


# October 2026: WhatsApp messages dated in the month (the SMS centre's
# time stamp would be today's), on two days.
OCTOBER = (2026, 10, 6, 2, 0, 0)   # Tuesday 6 October, 10:00 WITA
NOVEMBER = (2026, 11, 24, 2, 0, 0)  # Tuesday 24 November, 10:00 WITA
SEEDED = {"month": "2026-10", "wa_in": 3, "days": {"2026-10-06": 2,
                                                   "2026-10-07": 1}}
VIEWS = ("baru", "otomatis", "lainnya", "percakapan", "tindakan", "warga",
         "laporan", "pengguna", "pengumuman", "terputus")


def seed_october(d):
    t6 = calendar.timegm(OCTOBER)
    msgs = [("wamid.oct1", "6281377770001", "lampu jalan mati di RT 2", t6),
            ("wamid.oct2", "6281377770002", "syarat kk apa saja", t6 + 60),
            ("wamid.oct3", "6281377770001", "sudah 3 hari belum nyala",
             t6 + 86400)]
    for wamid, frm, text, ts in msgs:
        st, _ = H.post_webhook(d, H.wa_text(wamid, frm, text, ts=ts))
        assert st == 200, st
    H.wait_for(lambda: sum(1 for m in d.inbox()
                           if (m.get("source_id") or "").startswith(
                               "wamid.oct")) == 3,
               timeout=30, what="October seeded")


if __name__ == "__main__":
    H.main()
