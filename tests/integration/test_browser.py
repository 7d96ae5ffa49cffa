#!/usr/bin/env python3
"""Browser test of the staff inbox (issue 6): runs tests/browser/
inbox.spec.mjs (node + playwright-core + Debian's chromium) against the
real simpuld with the modem simulator and the fake Graph API. Screenshots
go to tests/artifacts/."""
import os
import shutil
import subprocess
import sys

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
        g = self.graph()
        sim = self.sim()
        rt_ini = os.path.join(self.tmp, "rt.ini")
        with open(rt_ini, "w") as f:
            f.write("[rt 03]\nrw = 05\nhead = Pak Budi\n"
                    "phone = 0812-9999-0001\n")
        d = self.daemon(graph_url=g.url, modem_device=sim.link,
                        extra={"rt": {"file": rt_ini}}).start()
        self.assertEqual(add_user(d, "siti", "admin").returncode, 0)
        # Rina writes on WhatsApp, then by SMS from the same number.
        st, _ = H.post_webhook(d, H.wa_text(
            "wamid.br1", "6281900000001", "Halo dari WA", name="Rina",
            ts=int(H.now()) - 5))
        self.assertEqual(st, 200)
        sim.sms("+6281900000001", "Halo dari SMS")
        # Markup from a resident, on both channels.
        sim.sms("+6281900000009", XSS)
        H.post_webhook(d, H.wa_text("wamid.br2", "6281900000009", XSS))
        H.wait_for(lambda: sum(1 for m in d.inbox()
                               if m["channel"] == "sms"
                               and m["direction"] == "in") >= 2,
                   timeout=60, what="both SMS stored")
        art = os.path.join(H.TOP, "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        env = dict(os.environ, SIMPUL_URL=d.url("").rstrip("/"),
                   SIMPUL_USER="siti", SIMPUL_PASSWORD="rahasia-kantor-1",
                   SIM_CTL=sim.ctl_path, ARTIFACTS=art, CHROMIUM=CHROMIUM)
        r = subprocess.run(
            ["node", os.path.join(H.TOP, "tests", "browser",
                                  "inbox.spec.mjs")],
            cwd=H.TOP, env=env, capture_output=True, text=True, timeout=600)
        print(r.stdout + r.stderr)
        self.assertEqual(r.returncode, 0, "browser test failed; see above "
                         "and tests/artifacts/failure.png")
        for name in ("list-1280.png", "conversation-1280.png",
                     "list-360.png", "conversation-360.png"):
            self.assertTrue(os.path.getsize(os.path.join(art, name)) > 0)


if __name__ == "__main__":
    H.main()
