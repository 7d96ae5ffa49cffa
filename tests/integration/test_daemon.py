"""simpuld driven by simpulctl and signed webhooks: the daemon core."""
import json
import os
import shutil
import signal
import subprocess

import harness
from harness import Case, wait_for, post_webhook, wa_text


class DaemonCore(Case):
    def start(self, **kw):
        self.g = self.graph()
        self.d = self.daemon(graph_url=self.g.url, **kw).start()
        return self.d

    def test_inbox_json_contract(self):
        d = self.start()
        st, _ = post_webhook(d, wa_text("wamid.C1", "6281234567890",
                                        "halo pak", name="Bu Sri"))
        self.assertEqual(st, 200)
        msgs = d.inbox()
        m = [x for x in msgs if x["direction"] == "in"][0]
        for key in ("id", "channel", "direction", "peer", "body", "at",
                    "source_id", "status", "conversation"):
            self.assertIn(key, m)
        self.assertEqual(m["channel"], "whatsapp")
        self.assertEqual(m["peer"], "+6281234567890")
        self.assertEqual(m["body"], "halo pak")
        self.assertEqual(m["source_id"], "wamid.C1")
        self.assertRegex(m["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
        # newest first
        ids = [x["id"] for x in msgs]
        self.assertEqual(ids, sorted(ids, reverse=True))

    def test_redelivered_webhook_stored_once(self):
        d = self.start()
        p = wa_text("wamid.DUP", "6281234567890", "syarat kk")
        for _ in range(3):
            self.assertEqual(post_webhook(d, p)[0], 200)
        ins = [m for m in d.inbox() if m["direction"] == "in"]
        self.assertEqual(len(ins), 1)

    def test_forged_missing_malformed_oversized(self):
        d = self.start()
        p = wa_text("wamid.F1", "6281234567890", "palsu")
        self.assertEqual(post_webhook(d, p, secret="wrong")[0], 401)
        self.assertEqual(post_webhook(d, p, signature="")[0], 401)
        body = b'{"object":"whatsapp_business_account","entry":[{'
        self.assertEqual(post_webhook(d, body)[0], 400)
        big = b'{"object":"whatsapp_business_account","x":"' + \
            b"a" * (3 * 1024 * 1024 + 10) + b'"}'
        self.assertEqual(post_webhook(d, big)[0], 413)
        self.assertEqual([m for m in d.inbox() if m["direction"] == "in"], [])

    def test_database_private_whatever_the_umask(self):
        old = os.umask(0)
        try:
            d = self.start()
        finally:
            os.umask(old)
        p = wa_text("wamid.P1", "6281234567890", "data pribadi")
        self.assertEqual(post_webhook(d, p)[0], 200)
        for suffix in ("", "-wal", "-shm", ".lock"):
            mode = os.stat(d.db + suffix).st_mode & 0o777
            self.assertEqual(oct(mode), oct(0o600), d.db + suffix)

    def test_verify_handshake(self):
        d = self.start()
        ok = d.url("/webhook/whatsapp?hub.mode=subscribe&hub.verify_token="
                   f"{harness.VERIFY_TOKEN}&hub.challenge=12345")
        st, body = harness.http("GET", ok)
        self.assertEqual((st, body), (200, b"12345"))
        st, _ = harness.http("GET", ok.replace(harness.VERIFY_TOKEN, "nope"))
        self.assertEqual(st, 403)

    def test_send_whatsapp_and_statuses_never_downgrade(self):
        d = self.start()
        d.ctl("send", "--channel", "whatsapp", "--to", "0812-3456-7890",
              "Dokumen Anda sudah selesai")
        reqs = wait_for(lambda: [r for r in self.g.requests()
                                 if r.get("path", "").endswith("/messages")],
                        what="graph send")
        body = reqs[0]["json"] if "json" in reqs[0] else json.loads(reqs[0]["body"])
        self.assertEqual(body["to"], "6281234567890")
        self.assertEqual(body["text"]["body"], "Dokumen Anda sudah selesai")
        out = wait_for(lambda: [m for m in d.inbox()
                                if m["direction"] == "out" and m["status"] == "sent"],
                       what="sent status")
        ext = out[0]["external_id"]
        self.assertTrue(ext.startswith("wamid."), ext)
        for status in ("read", "delivered"):
            st, _ = post_webhook(d, self.status_payload(ext, status))
            self.assertEqual(st, 200)
        m = [x for x in d.inbox() if x["id"] == out[0]["id"]][0]
        self.assertEqual(m["status"], "read")

    @staticmethod
    def status_payload(wamid, status):
        return {"object": "whatsapp_business_account", "entry": [{
            "id": "W", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"phone_number_id": harness.PHONE_ID},
                "statuses": [{"id": wamid, "status": status,
                              "timestamp": str(int(harness.now())),
                              "recipient_id": "6281234567890"}]}}]}]}

    def test_reload_refuses_broken_config(self):
        d = self.start()
        good = open(d.conf).read()
        with open(d.conf, "a") as f:
            f.write("[outbox]\nretry_max = lots\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in d.read_log(), what="refusal")
        self.assertIn("retry_max", d.read_log())
        st, _ = post_webhook(d, wa_text("wamid.R1", "6281234567890", "masih"))
        self.assertEqual(st, 200)
        with open(d.conf, "w") as f:
            f.write(good.replace("log_level = debug", "log_level = info"))
        d.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.read_log(),
                 what="reload")

    def test_sigterm_stops_cleanly(self):
        d = self.start()
        post_webhook(d, wa_text("wamid.T1", "6281234567890", "sebelum"))
        self.assertEqual(d.stop(), 0)
        d.start()
        self.assertEqual(len([m for m in d.inbox() if m["direction"] == "in"]), 1)

    def test_check_mode(self):
        etc = os.path.join(harness.TOP, "etc")
        r = subprocess.run([harness.SIMPULD, "-n", "-c",
                            os.path.join(etc, "simpul.ini")],
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        broken = os.path.join(self.tmp, "etc")
        shutil.copytree(etc, broken)
        conf = os.path.join(broken, "simpul.ini")
        text = open(conf).read().replace("retry_max = 8", "retry_max = -1")
        text = text.replace("[store]", "[store]\npaht = x.db")
        open(conf, "w").write(text)
        r = subprocess.run([harness.SIMPULD, "-n", "-c", conf],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"simpul\.ini:\d+: error: retry_max: '-1' is not a whole number")
        self.assertRegex(r.stderr, r"simpul\.ini:\d+: error: unknown key 'paht' in \[store\]; did you mean 'path'\?")


if __name__ == "__main__":
    harness.main()
