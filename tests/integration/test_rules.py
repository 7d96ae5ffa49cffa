"""Auto-replies from the shipped rules, end to end through the modem
simulator, on a fake clock."""
import calendar
import json
import os
import re
import shutil
import signal
import time

import harness
from harness import Case, wait_for


def sent_to(sim, number):
    return [s for s in sim.sent() if s["to"] == number]


class Rules(Case):
    def start(self, at=None, rules_dir=None):
        """at: UTC time tuple the daemon should believe it is."""
        self.clock = os.path.join(self.tmp, "clock")
        off = 0
        if at:
            off = calendar.timegm(at) - int(time.time())
        with open(self.clock, "w") as f:
            f.write(str(off))
        os.environ["SIMPUL_FAKE_CLOCK_FILE"] = self.clock
        self.addCleanup(os.environ.pop, "SIMPUL_FAKE_CLOCK_FILE", None)
        self.s = self.sim()
        self.d = self.daemon(modem_device=self.s.link, rules_dir=rules_dir)
        self.d.start()
        wait_for(lambda: "modem: ready" in self.d.read_log()
                 or "-> ready" in self.d.read_log(), what="modem ready")

    def test_ktp_on_friday_evening_gets_next_opening(self):
        # Friday 27 November 2026, 19:05 WITA (UTC+8) = 11:05 UTC
        self.start(at=(2026, 11, 27, 11, 5, 0))
        self.s.sms("+6281234567890", "Pak, mau tanya syarat ktp?")
        r = wait_for(lambda: sent_to(self.s, "+6281234567890"),
                     what="KTP reply")[0]
        self.assertIn("KTP: pengantar RT", r["text"])
        self.assertIn("Senin 08.00 WITA", r["text"])
        self.assertEqual(r["parts"], 1)

    def test_operator_sender_gets_nothing(self):
        self.start()
        self.s.sms("TELKOMSEL", "Sisa kuota Anda 1GB. Info ktp promo")
        self.s.sms("+6281234567891", "jam buka")
        wait_for(lambda: sent_to(self.s, "+6281234567891"),
                 what="reply to the resident")
        ins = [m for m in self.d.inbox() if m["direction"] == "in"]
        self.assertIn("TELKOMSEL", [m["peer"] for m in ins])
        self.assertEqual([s for s in self.s.sent() if s["to"] == "TELKOMSEL"],
                         [])
        self.assertEqual(len(self.s.sent()), 1)
        self.assertIn("no auto-reply to TELKOMSEL", self.d.read_log())

    def test_bounce_loop_stops_within_budget(self):
        # Tuesday 24 November 2026, 10:00 WITA: open
        self.start(at=(2026, 11, 24, 2, 0, 0))
        peer = "+6281299990000"
        self.s.sms(peer, "ktp")
        first = wait_for(lambda: sent_to(self.s, peer), what="first reply")
        # An auto-responder on the other side echoes every reply back.
        for i in range(8):
            last = sent_to(self.s, peer)[-1]["text"]
            self.s.sms(peer, last)
            time.sleep(1.0)
        time.sleep(2)
        replies = sent_to(self.s, peer)
        self.assertLessEqual(len(replies), 3, [r["text"] for r in replies])
        self.assertGreaterEqual(len(replies), 1)
        self.assertIn("no auto-reply to " + peer, self.d.read_log())
        ins = [m for m in self.d.inbox() if m["direction"] == "in"]
        self.assertEqual(len(ins), 9)  # every message still in the inbox

    def test_broken_rules_on_reload_keep_old_rules(self):
        rules = os.path.join(self.tmp, "rules.d")
        shutil.copytree(os.path.join(harness.TOP, "etc", "rules.d"), rules)
        self.start(at=(2026, 11, 24, 2, 0, 0), rules_dir=rules)
        with open(os.path.join(rules, "50-rusak.ini"), "w") as f:
            f.write("[rule rusak]\nkeywords = ktp\nrepyl = {nama}\n")
        self.d.signal(signal.SIGHUP)
        wait_for(lambda: "still answering with the previous rules"
                 in self.d.read_log(), what="refused reload")
        self.assertIn("50-rusak.ini:3", self.d.read_log())
        r = self.d.ctl("rules", "check", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("50-rusak.ini:3: error", r.stderr)
        self.s.sms("+6281234500001", "syarat ktp")
        r = wait_for(lambda: sent_to(self.s, "+6281234500001"),
                     what="reply from the old rules")[0]
        self.assertIn("KTP: pengantar RT", r["text"])

    def test_edited_rules_reload_by_themselves(self):
        rules = os.path.join(self.tmp, "rules.d")
        shutil.copytree(os.path.join(harness.TOP, "etc", "rules.d"), rules)
        self.start(at=(2026, 11, 24, 2, 0, 0), rules_dir=rules)
        p = os.path.join(rules, "30-info.ini")
        text = open(p).read()
        with open(p, "a") as f:
            f.write("\n[rule lomba]\nkeywords = lomba\n"
                    "reply = Lomba 17an di balai RW tanggal 17 Agustus.\n")
        wait_for(lambda: "rules loaded" in self.d.read_log().split(
            "ready (http")[-1], what="automatic reload")
        self.s.sms("+6281234500002", "kapan lomba")
        r = wait_for(lambda: sent_to(self.s, "+6281234500002"),
                     what="reply from the new rule")[0]
        self.assertIn("Lomba 17an", r["text"])
        self.assertTrue(text)

    def test_ticket_and_cek_status(self):
        self.start(at=(2026, 11, 24, 2, 0, 0))
        peer = "+6281234500003"
        self.s.sms(peer, "lampu jalan di gang mawar mati")
        r = wait_for(lambda: sent_to(self.s, peer), what="ticket reply")[0]
        m = re.search(r"[A-Z]+-2611-\d{6}", r["text"])
        self.assertTrue(m, r["text"])
        self.s.sms(peer, "cek " + m.group(0).lower())
        r2 = wait_for(lambda: sent_to(self.s, peer)[1:], what="cek reply")[0]
        self.assertIn(m.group(0), r2["text"])
        self.assertIn("sudah kami terima", r2["text"])

    def test_canned_replies_for_staff(self):
        self.start(at=(2026, 11, 24, 2, 0, 0))
        self.s.sms("+6281234500004", "halo")
        conv = wait_for(lambda: [m for m in self.d.inbox()
                                 if m["direction"] == "in"],
                        what="message")[0]["conversation"]
        st, body = harness.unix_request(
            self.d.sock, "GET", f"/api/v1/canned?conversation={conv}")
        self.assertEqual(st, 200)
        canned = {c["rule"]: c["text"] for c in json.loads(body)}
        self.assertIn("KTP: pengantar RT", canned["ktp"])
        self.assertNotIn("menu", canned)  # the menu is not a canned reply
        self.assertNotIn("{", "".join(canned.values()))  # all filled in
        st, _ = harness.http("GET", self.d.url("/api/v1/canned"))
        self.assertEqual(st, 401)  # staff only

    # Tuesday 24 November 2026, 10:00 WITA (UTC+8): the office is open, so
    # no reply carries "Buka lagi ..." and results do not depend on when
    # the test runs.
    OPEN = (2026, 11, 24, 2, 0, 0)

    def processed(self, peer, n):
        """Waits until n messages from peer are in the inbox and the
        daemon has decided on each (a reply sent or a logged reason)."""
        def done():
            ins = [m for m in self.d.inbox()
                   if m["direction"] == "in" and m["peer"] == peer]
            decided = (len(sent_to(self.s, peer))
                       + self.d.read_log().count("no auto-reply to " + peer))
            return len(ins) >= n and decided >= n
        wait_for(done, what=f"{n} messages from {peer} decided")

    def test_closer_gets_one_sama_sama_never_the_menu(self):
        self.start(at=self.OPEN)
        peer = "+6281234500010"
        self.s.sms(peer, "terima kasih bu")
        r = wait_for(lambda: sent_to(self.s, peer), what="closer reply")
        self.assertEqual(r[0]["text"], "Sama-sama.")
        self.s.sms(peer, "ok makasih")
        self.processed(peer, 2)
        self.s.sms(peer, "sip")
        self.processed(peer, 3)
        texts = [x["text"] for x in sent_to(self.s, peer)]
        self.assertEqual(texts, ["Sama-sama."])
        self.assertNotIn("Ketik angka", "".join(texts))  # never the menu
        self.assertIn("already answered with thanks", self.d.read_log())

    def test_digit_answers_the_numbered_choice_sent(self):
        self.start(at=self.OPEN)
        peer = "+6281234500011"
        self.s.sms(peer, "kk banjir")
        q = wait_for(lambda: sent_to(self.s, peer), what="question")[0]
        self.assertIn("Balas angkanya", q["text"])
        # the digit in front of the drainage complaint; the menu has no
        # such item, so only the kept question can answer it this way
        m = re.search(r"(\d) Pengaduan got/banjir", q["text"])
        self.assertTrue(m, q["text"])
        self.s.sms(peer, m.group(1))
        r = wait_for(lambda: sent_to(self.s, peer)[1:], what="answer")[0]
        self.assertIn("Pengaduan saluran air diterima", r["text"])
        self.assertRegex(r["text"], r"KLS-2611-\d{6}")

    def test_digit_without_a_question_answers_the_menu(self):
        self.start(at=self.OPEN)
        peer = "+6281234500012"
        self.s.sms(peer, "halo")
        menu = wait_for(lambda: sent_to(self.s, peer), what="menu")[0]
        self.assertIn("Ketik angka", menu["text"])
        self.s.sms(peer, "1")
        r = wait_for(lambda: sent_to(self.s, peer)[1:], what="answer")[0]
        self.assertIn("KTP: pengantar RT", r["text"])

    def test_bare_cek_names_the_configured_prefix(self):
        rules = os.path.join(self.tmp, "rules.d")
        shutil.copytree(os.path.join(harness.TOP, "etc", "rules.d"), rules)
        p = os.path.join(rules, "00-office.ini")
        text = open(p).read()
        self.assertIn("ticket_prefix = KLS", text)
        with open(p, "w") as f:
            f.write(text.replace("ticket_prefix = KLS",
                                 "ticket_prefix = TMB"))
        self.start(at=self.OPEN, rules_dir=rules)
        peer = "+6281234500013"
        self.s.sms(peer, "CEK")
        r = wait_for(lambda: sent_to(self.s, peer), what="CEK reply")[0]
        self.assertIn("CEK TMB-", r["text"])
        self.assertNotIn("KLS", r["text"])

    def test_rules_test_prints_candidate_scores(self):
        self.start(at=self.OPEN)
        out = self.d.ctl("rules", "test", "--at", "2026-11-24 10:00",
                         "kk banjir").stdout
        self.assertIn("scores:", out)
        self.assertRegex(out, r"\[kk\] \S+:\d+: score \d+ = 'kk' \d")
        self.assertRegex(out, r"\[drainase\] \S+:\d+: score \d+ = ")
        self.assertIn("chosen: numbered choice: 1 [", out)
        self.assertRegex(out, r"reply \(1 segment, GSM-7, \d+ bytes\): "
                         r"Maksud Anda: 1 ")


if __name__ == "__main__":
    harness.main()
