#!/usr/bin/env python3
"""simpul-setup --non-interactive on a copy of the shipped configuration:
simpuld -n accepts the result, the old files are kept, and the admin it
created logs in to the web inbox of a simpuld started on it."""
import glob
import json
import os
import shutil
import subprocess

import harness
from harness import Case, wait_for

SETUP = os.path.join(harness.TOP, "packaging", "simpul-setup")


class Setup(Case):
    def etc(self):
        """etc/ as shipped, with paths that a test may write to."""
        etc = os.path.join(self.tmp, "etc")
        shutil.copytree(os.path.join(harness.TOP, "etc"), etc)
        self.conf = os.path.join(etc, "simpul.ini")
        self.port = harness.free_port()
        self.sock = os.path.join(self.tmp, "simpul.sock")
        text = open(self.conf).read()
        for old, new in [
            ("[modem]\nenabled = yes", "[modem]\nenabled = no"),
            ("path = /var/lib/simpul/simpul.db",
             f"path = {self.tmp}/simpul.db"),
            ("media_dir = /var/lib/simpul/media",
             f"media_dir = {self.tmp}/media"),
            ("listen = 127.0.0.1:8080", f"listen = 127.0.0.1:{self.port}"),
            ("socket = /run/simpul/simpul.sock", f"socket = {self.sock}"),
            ("web_root = /usr/share/simpul/web",
             "web_root = " + os.path.join(harness.TOP, "daemon", "web", "ui")),
        ]:
            self.assertIn(old, text, "etc/simpul.ini changed")
            text = text.replace(old, new)
        with open(self.conf, "w") as f:
            f.write(text)
        self.shipped = text
        return etc

    def setup_cmd(self, *args, input=None):
        env = dict(os.environ, SIMPULD=harness.SIMPULD,
                   SIMPULCTL=harness.SIMPULCTL, TMPDIR=self.tmp)
        return subprocess.run([SETUP, "-c", self.conf, "--non-interactive",
                               *args], input=input, capture_output=True,
                              text=True, env=env, timeout=120)

    def test_non_interactive_setup_then_admin_logs_in(self):
        etc = self.etc()
        secret = os.path.join(self.tmp, "app-secret")
        with open(secret, "w") as f:
            f.write("rahasia-aplikasi\n")
        r = self.setup_cmd(
            "--office", "Kelurahan Sukamaju", "--timezone", "WIB",
            "--own-number", "0812-1100-0000", "--admin", "lurah",
            "--admin-password-file", "-",
            "--wa-phone-number-id", "1234567890",
            "--wa-access-token-file", secret, "--wa-app-secret-file", secret,
            "--public-url", "https://simpul.sukamaju.go.id",
            input="kata-sandi-lurah\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # What to do next: the webhook URL for Meta and an HTTPS site.
        self.assertIn("https://simpul.sukamaju.go.id/webhook/whatsapp",
                      r.stdout)
        self.assertIn(f"reverse_proxy 127.0.0.1:{self.port}", r.stdout)
        # The old files are kept; the new ones pass simpuld -n.
        baks = glob.glob(self.conf + ".bak-*")
        self.assertEqual(len(baks), 1)
        self.assertEqual(open(baks[0]).read(), self.shipped)
        self.assertEqual(len(glob.glob(os.path.join(
            etc, "rules.d", "00-office.ini.bak-*"))), 1)
        n = subprocess.run([harness.SIMPULD, "-n", "-c", self.conf],
                           capture_output=True, text=True)
        self.assertEqual(n.returncode, 0, n.stdout + n.stderr)
        office = open(os.path.join(etc, "rules.d", "00-office.ini")).read()
        self.assertIn("name = Kelurahan Sukamaju", office)
        self.assertIn("timezone = Asia/Jakarta", office)
        # No simpuld left running by the setup.
        self.assertFalse(os.path.exists(self.sock) and subprocess.run(
            [harness.SIMPULCTL, "-c", self.conf, "status"],
            capture_output=True).returncode == 0)
        # A simpuld started on it: the admin logs in over HTTP.
        log = open(os.path.join(self.tmp, "simpuld.log"), "w")
        p = subprocess.Popen([harness.SIMPULD, "-f", "-c", self.conf],
                             stdout=log, stderr=log)
        self.addCleanup(lambda: (p.terminate(), p.wait()))
        url = f"http://127.0.0.1:{self.port}"
        def up():
            try:
                return harness.http("GET", url + "/healthz")[0] == 200
            except OSError:  # not listening yet
                return p.poll() is not None
        wait_for(up, what="simpuld answering")
        self.assertIsNone(p.poll())
        login = {"user": "lurah", "password": "kata-sandi-lurah"}
        st, body = harness.http("POST", url + "/api/v1/login",
                                json.dumps(login).encode(),
                                {"Content-Type": "application/json"})
        self.assertEqual(st, 200, body)
        self.assertIn("csrf", json.loads(body))
        login["password"] = "salah-sandi"
        st, _ = harness.http("POST", url + "/api/v1/login",
                             json.dumps(login).encode(),
                             {"Content-Type": "application/json"})
        self.assertEqual(st, 401)

    def test_refused_config_puts_the_old_files_back(self):
        self.etc()
        empty = os.path.join(self.tmp, "empty")
        open(empty, "w").close()
        # WhatsApp on with an empty access token: simpuld -n refuses it.
        r = self.setup_cmd("--office", "Kelurahan Sukamaju", "--timezone",
                           "WIT", "--wa-phone-number-id", "123",
                           "--wa-access-token-file", empty,
                           "--wa-app-secret-file", empty, "--admin", "")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("simpuld -n", r.stderr)
        self.assertEqual(open(self.conf).read(), self.shipped)

    def test_bad_time_zone_or_number_is_a_usage_error(self):
        self.etc()
        for args in (["--timezone", "UTC"], ["--own-number", "bukan-nomor"]):
            r = self.setup_cmd("--office", "X", "--admin", "", *args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(open(self.conf).read(), self.shipped)


if __name__ == "__main__":
    harness.main()
