"""Announcements residents ask for: DAFTAR / BERHENTI by SMS and WhatsApp
(confirmed, recorded with time), an announcement to one RT reaching exactly
its subscribers once, also across a SIGKILL while sending, never at night,
and held while the SIM's credit is low. Modem simulator and fake Graph API,
daemon clock pinned."""
import calendar
import json
import os
import signal
import time

import harness
from harness import Case, wait_for, post_webhook, wa_text

ANN = "Kerja bakti RT 03 hari Minggu pukul 07.00 di balai warga."


def local(sock, method, path, obj=None):
    st, body = harness.unix_request(sock, method, path, obj)
    return st, json.loads(body) if body else None


class Announce(Case):
    def start(self, at=(2026, 11, 24, 2, 0, 0), wa=False, modem=None,
              sim_cmds=()):
        """at: UTC; the default is Tuesday 10.00 WITA (UTC+8)."""
        self.clock = os.path.join(self.tmp, "clock")
        self.set_clock(at)
        os.environ["SIMPUL_FAKE_CLOCK_FILE"] = self.clock
        self.addCleanup(os.environ.pop, "SIMPUL_FAKE_CLOCK_FILE", None)
        self.s = self.sim()
        for c in sim_cmds:
            self.s.ctl(c)
        self.g = self.graph() if wa else None
        self.d = self.daemon(modem_device=self.s.link,
                             graph_url=self.g.url if wa else None,
                             extra={"modem": modem or {}})
        self.d.start()
        wait_for(lambda: "modem: ready" in self.d.read_log(),
                 what="modem ready")

    def set_clock(self, at):
        with open(self.clock, "w") as f:
            f.write(str(calendar.timegm(at) - int(time.time())))

    def sms_to(self, number, needle=""):
        return [s for s in self.s.sent() if s["to"] == number
                and s["received_parts"] == s["parts"] and needle in s["text"]]

    def join(self, numbers, cmd):
        for n in numbers:
            self.s.sms(n, cmd)
        for n in numbers:
            wait_for(lambda: self.sms_to(n, "terdaftar"),
                     what=f"confirmation to {n}")

    def announce(self, audience, text=ANN):
        st, j = local(self.d.sock, "POST", "/api/v1/announcements",
                      {"text": text, "audience": audience})
        self.assertEqual(st, 201, j)
        return j

    def test_opt_in_and_out_by_sms_and_whatsapp(self):
        self.start(wa=True)
        sms_peer, wa_peer = "+6281230000001", "6281230000002"
        self.s.sms(sms_peer, "daftar rt 3")
        r = wait_for(lambda: self.sms_to(sms_peer), what="SMS confirmation")
        self.assertIn("terdaftar", r[0]["text"])
        self.assertIn("RT 03", r[0]["text"])

        def wa_to(needle):
            return [q["json"]["text"]["body"] for q in self.g.requests()
                    if q.get("json") and q["json"].get("to") == wa_peer
                    and needle in q["json"]["text"]["body"]]
        post_webhook(self.d, wa_text("wamid.D1", wa_peer, "DAFTAR POSYANDU"))
        wait_for(lambda: wa_to("terdaftar"), what="WhatsApp confirmation")
        self.assertIn("Posyandu", wa_to("terdaftar")[0])
        post_webhook(self.d, wa_text("wamid.D2", wa_peer, "stop"))
        wait_for(lambda: wa_to("tidak lagi"), what="WhatsApp opt-out")
        self.s.sms(sms_peer, "BERHENTI")
        wait_for(lambda: self.sms_to(sms_peer, "tidak lagi"),
                 what="SMS opt-out")
        # one answer per command: no menu or other auto-reply besides
        self.assertEqual(len(self.sms_to(sms_peer)), 2)

        st, j = local(self.d.sock, "GET", "/api/v1/subscriptions")
        self.assertEqual(st, 200)
        subs = {(s["topic"], s["channel"]): s for s in j["subscriptions"]}
        self.assertEqual(set(subs), {("rt:03", "sms"),
                                     ("posyandu", "whatsapp")})
        self.assertTrue(all(s["active"] == 0 for s in subs.values()))
        log = [(e["action"], e["topic"], e["channel"])
               for e in j["consent_log"]]
        self.assertEqual(log, [("daftar", "rt:03", "sms"),
                               ("daftar", "posyandu", "whatsapp"),
                               ("berhenti", "*", "whatsapp"),
                               ("berhenti", "*", "sms")])
        self.assertTrue(all(isinstance(e["at_ms"], int) and e["message"]
                            for e in j["consent_log"]))

    def test_repeated_command_answered_within_budget(self):
        self.start()
        peer = "+6281230000401"
        self.join([peer], "DAFTAR")
        # already subscribed: nothing changes (texts differ, or the same
        # SMS in the same second would be one message)
        for text in ("daftar", "Daftar", "DAFTAR.", "daftar!", "Daftar!"):
            self.s.sms(peer, text)
        wait_for(lambda: self.d.read_log().count(
            f"no reply to {peer}'s repeated") == 3, what="budget reached")
        msgs = [m for m in self.d.inbox() if m["peer"] == peer]
        self.assertEqual(len([m for m in msgs if m["direction"] == "in"]), 6)
        # max_per_hour = 3 auto-replies: the first receipt and two more
        self.assertEqual(len([m for m in msgs if m["direction"] == "out"]), 3)

    def test_one_rt_exactly_once_across_sigkill(self):
        self.start()
        rt03 = [f"+62812300001{i}" for i in range(4)]
        others = ["+6281230000120", "+6281230000121"]
        self.join(rt03, "DAFTAR RT 03")
        self.join(others[:1], "DAFTAR RT 04")
        self.join(others[1:], "DAFTAR POSYANDU")
        # two announcement SMS go through, then the network refuses (CMS
        # 332, transient: retried) until the fault is cleared
        self.s.ctl("fault cms 332 1000 2")
        j = self.announce("RT 03")
        self.assertEqual((j["recipients"], j["sms"]), (4, 4))

        def ann_rows():
            return [m for m in self.d.inbox() if m["direction"] == "out"
                    and m["body"] == ANN]
        wait_for(lambda: len([m for m in ann_rows()
                              if m["status"] in ("sent", "delivered")]) == 2
                 and any("332" in (m["error"] or "") for m in ann_rows()),
                 what="two sent, the third refused")
        self.d.kill()
        self.d.proc.wait()
        self.s.ctl("fault clear")
        self.d.start()
        wait_for(lambda: all(self.sms_to(n, ANN) for n in rt03),
                 timeout=60, what="the announcement to all of RT 03")
        wait_for(lambda: all(m["status"] in ("sent", "delivered")
                             for m in ann_rows()), what="all rows sent")
        for n in rt03:
            self.assertEqual(len(self.sms_to(n, ANN)), 1, n)
        for n in others:
            self.assertEqual(self.sms_to(n, ANN), [], n)
        self.assertEqual(len(ann_rows()), 4)
        st, lst = local(self.d.sock, "GET", "/api/v1/announcements")
        self.assertEqual(len(lst), 1)
        self.assertEqual(lst[0]["recipients"], 4)

    def test_nothing_sent_at_night(self):
        # Tuesday 24 November 2026, 22.00 WITA
        self.start(at=(2026, 11, 24, 14, 0, 0))
        peers = ["+6281230000201", "+6281230000202"]
        self.join(peers, "DAFTAR")
        self.announce("semua")
        wait_for(lambda: "announcements held: ditahan: tidak dikirim pukul"
                 in self.d.read_log(), what="held for the night")
        for n in peers:
            self.assertEqual(self.sms_to(n, ANN), [])
        rows = [m for m in self.d.inbox() if m["body"] == ANN]
        self.assertEqual({m["status"] for m in rows}, {"queued"})
        # Wednesday 06.30 WITA: the next look at the queue sends them
        self.set_clock((2026, 11, 24, 22, 30, 0))
        self.s.sms("+6281230000203", "jam buka")
        wait_for(lambda: all(self.sms_to(n, ANN) for n in peers),
                 timeout=60, what="sent in the morning")
        # a thank-you for the announcement gets no menu back
        self.s.sms(peers[0], "Ok, terima kasih!")
        wait_for(lambda: f"no auto-reply to {peers[0]}: thanks for an "
                 "announcement" in self.d.read_log(), what="the thanks seen")
        self.assertEqual(len(self.sms_to(peers[0])), 2)  # receipt, news

    def test_held_while_credit_is_low(self):
        self.start(modem={"ussd_balance": "\"*888#\"",
                          "balance_interval": "60", "low_credit": "5000"},
                   sim_cmds=("credit 3.000",))
        wait_for(lambda: "modem credit low" in self.d.read_log(),
                 what="the low credit seen")
        peers = ["+6281230000301"]
        self.join(peers, "DAFTAR")
        self.announce("semua")
        wait_for(lambda: "ditahan: pulsa modem di bawah batas"
                 in self.d.read_log(), what="held for credit")
        self.assertEqual(self.sms_to(peers[0], ANN), [])
        rows = [m for m in self.d.inbox() if m["body"] == ANN]
        self.assertEqual([m["status"] for m in rows], ["queued"])


if __name__ == "__main__":
    harness.main()
