"""Auto-replies from the shipped rules, end to end through the modem
simulator, on a fake clock."""
import json
import os
import re
import shutil
import signal

import harness
from harness import CALENDAR, MOMENTS, Case, wait_for


def sent_to(sim, number):
    return [s for s in sim.sent() if s["to"] == number]


class Rules(Case):
    def start(self, at="open_weekday", rules_dir=None):
        """at: the moment (harness.MOMENTS name or epoch seconds) the
        daemon and the network believe it is."""
        self.pin(at)
        self.s = self.sim()
        self.d = self.daemon(modem_device=self.s.link, rules_dir=rules_dir)
        self.d.start()
        wait_for(lambda: "modem: ready" in self.d.read_log()
                 or "-> ready" in self.d.read_log(), what="modem ready")

    def closed_ktp_reply(self, at, peer):
        self.start(at=at)
        self.s.sms(peer, "Pak, mau tanya syarat ktp?")
        r = wait_for(lambda: sent_to(self.s, peer), what="KTP reply")[0]
        self.assertIn("KTP: pengantar RT", r["text"])
        day, hhmm = CALENDAR.next_open(harness.now())
        self.assertIn(f"{day} {hhmm} WITA", r["text"])
        self.assertEqual(r["parts"], 1)

    def test_ktp_on_friday_evening_gets_next_opening(self):
        # three hours after the Friday closing: the office opens again on
        # the next working day of the calendar
        fri = CALENDAR.local(MOMENTS["friday_break"]).date()
        close = CALENDAR.hours[4][-1][1]
        self.closed_ktp_reply(CALENDAR.at(fri, close + 180), "+6281234567890")

    def test_ktp_on_a_holiday_gets_next_opening(self):
        self.closed_ktp_reply("holiday", "+6281234567892")

    def test_ktp_in_the_friday_break_gets_the_afternoon(self):
        self.closed_ktp_reply("friday_break", "+6281234567893")

    def test_ktp_on_an_open_weekday_gets_the_open_reply(self):
        self.start(at="open_weekday")
        self.s.sms("+6281234567894", "syarat ktp")
        r = wait_for(lambda: sent_to(self.s, "+6281234567894"),
                     what="KTP reply")[0]
        self.assertIn("KTP: pengantar RT", r["text"])
        self.assertNotIn(" WITA", r["text"])  # no next opening

    def test_operator_sender_gets_nothing(self):
        # Texts a resident gets an answer to, so only the sender stops the
        # reply (a promotion's wording would be stopped by the spam rule).
        self.start()
        self.s.sms("TELKOMSEL", "jam buka")
        self.s.sms("TELKOMSEL", "Sisa kuota Anda 1GB. Info ktp promo")
        self.s.sms("+6281234567891", "jam buka")
        wait_for(lambda: sent_to(self.s, "+6281234567891"),
                 what="reply to the resident")
        wait_for(lambda: self.d.read_log().count(
            "no auto-reply to TELKOMSEL") == 2, what="both decided")
        ins = [m for m in self.d.inbox() if m["direction"] == "in"]
        self.assertEqual([m["peer"] for m in ins].count("TELKOMSEL"), 2)
        self.assertEqual([s for s in self.s.sent() if s["to"] == "TELKOMSEL"],
                         [])
        self.assertEqual(len(self.s.sent()), 1)
        self.assertEqual(self.d.read_log().count(
            "sender is alphanumeric (operator or promotion)"), 2)

    def decided(self, peer, n):
        """Waits until n messages from peer are in the inbox and the
        daemon has decided on each (a rule's reply queued, or a logged
        'no auto-reply'): the positive marker before a negative check."""
        def done():
            ins = [m for m in self.d.inbox() if m["direction"] == "in"
                   and m["peer"] == peer]
            log = self.d.read_log()
            quiet = log.count("no auto-reply to " + peer)
            outs = [m for m in self.d.inbox() if m["direction"] == "out"
                    and m["peer"] == peer]
            return len(ins) == n and quiet + len(outs) >= n
        wait_for(done, timeout=60, what=f"{n} decisions for {peer}")

    def test_echo_loop_stops(self):
        self.start()
        peer = "+6281299990000"
        self.s.sms(peer, "ktp")
        wait_for(lambda: sent_to(self.s, peer), what="first reply")
        # An auto-responder on the other side echoes every reply back.
        for i in range(8):
            n = len(sent_to(self.s, peer))
            # a robot answers a few seconds later: the same text with
            # another network time stamp is a new message, not a repeat
            # of the same one (which the SMS dedupe would drop)
            self.pin(harness.now() + 5)
            self.s.sms(peer, sent_to(self.s, peer)[-1]["text"])
            self.decided(peer, i + 2)
            self.assertEqual(len(sent_to(self.s, peer)), n,
                             "an echo of our reply was answered")
        self.assertEqual(self.d.read_log().count(
            "loop breaker: the message repeats our last auto-reply"), 8)
        self.assertEqual(len(sent_to(self.s, peer)), 1)
        ins = [m for m in self.d.inbox() if m["direction"] == "in"]
        self.assertEqual(len(ins), 9)  # every message still in the inbox

    def test_budget_per_contact_per_hour(self):
        # Different questions, so only the budget (max_per_hour) can stop
        # the replies, not the same-text loop breaker.
        o = harness._ini(os.path.join(harness.TOP, "etc", "rules.d",
                                      "00-office.ini"))
        budget = int(o["limits"]["max_per_hour"])
        self.start()
        peer = "+6281299990009"
        asks = ["syarat ktp", "syarat kk", "jam buka", "pengantar nikah",
                "syarat sktm", "izin situ"]
        self.assertGreater(len(asks), budget)
        for i, text in enumerate(asks):
            self.s.sms(peer, text)
            self.decided(peer, i + 1)
        wait_for(lambda: len(sent_to(self.s, peer)) >= budget,
                 what="the replies within the budget")
        self.assertEqual(len(sent_to(self.s, peer)), budget)
        log = self.d.read_log()
        self.assertEqual(log.count(f"no auto-reply to {peer}"),
                         len(asks) - budget)
        self.assertIn(f"budget: {budget} auto-replies", log)
        self.assertNotIn("loop breaker", log)

    def test_same_text_window_is_the_one_configured(self):
        # same_text_minutes = 30: the same text three times, 12 minutes
        # apart, is within it (the store once counted 10 minutes whatever
        # the file said, and the third got its reply).
        rules = os.path.join(self.tmp, "rules.d")
        shutil.copytree(os.path.join(harness.TOP, "etc", "rules.d"), rules)
        p = os.path.join(rules, "00-office.ini")
        with open(p) as f:
            text = f.read()
        text = re.sub(r"(?m)^same_text_minutes = .*$",
                      "same_text_minutes = 30", text)
        text = re.sub(r"(?m)^max_per_hour = .*$", "max_per_hour = 10", text)
        with open(p, "w") as f:
            f.write(text)
        self.start(rules_dir=rules)
        peer = "+6281299990011"
        for i in range(3):
            if i:
                self.pin(harness.now() + 12 * 60)
            self.s.sms(peer, "jam buka kantor")
            self.decided(peer, i + 1)
        wait_for(lambda: len(sent_to(self.s, peer)) >= 2,
                 what="the first two replies")
        self.assertEqual(len(sent_to(self.s, peer)), 2)
        self.assertIn("loop breaker: the same text 3 times in 30 min",
                      self.d.read_log())

    def test_broken_rules_on_reload_keep_old_rules(self):
        rules = os.path.join(self.tmp, "rules.d")
        shutil.copytree(os.path.join(harness.TOP, "etc", "rules.d"), rules)
        self.start(rules_dir=rules)
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
        self.start(rules_dir=rules)
        p = os.path.join(rules, "30-info.ini")
        with open(p, "a") as f:
            f.write("\n[rule lomba]\nkeywords = lomba\n"
                    "reply = Lomba 17an di balai RW tanggal 17 Agustus.\n")
        wait_for(lambda: "rules loaded" in self.d.read_log().split(
            "ready (http")[-1], what="automatic reload")
        self.s.sms("+6281234500002", "kapan lomba")
        r = wait_for(lambda: sent_to(self.s, "+6281234500002"),
                     what="reply from the new rule")[0]
        self.assertEqual(r["text"],
                         "Lomba 17an di balai RW tanggal 17 Agustus.")

    def test_ticket_and_cek_status(self):
        self.start()
        peer = "+6281234500003"
        self.s.sms(peer, "lampu jalan di gang mawar mati")
        r = wait_for(lambda: sent_to(self.s, peer), what="ticket reply")[0]
        yymm = CALENDAR.local(harness.now()).strftime("%y%m")
        m = re.search(rf"[A-Z]+-{yymm}-\d{{6}}", r["text"])
        self.assertTrue(m, r["text"])
        self.s.sms(peer, "cek " + m.group(0).lower())
        r2 = wait_for(lambda: sent_to(self.s, peer)[1:], what="cek reply")[0]
        self.assertIn(m.group(0), r2["text"])
        self.assertIn("sudah kami terima", r2["text"])

    def test_canned_replies_for_staff(self):
        self.start()
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

    # An ordinary weekday morning of the shipped calendar (harness
    # MOMENTS): the office is open, so no reply carries "Buka lagi ...".
    OPEN = "open_weekday"

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
