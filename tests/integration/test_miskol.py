"""Missed calls (miskol), end to end through the modem simulator: the modem
hangs up, the call becomes an inbox item, one SMS goes back; withheld
numbers and operator missed-call notices; the "telepon balik" record."""
import calendar
import json
import os
import time

import harness
from harness import Case, wait_for

CALL_BACK_NOTE = "menelepon balik"


def calls_of(d, peer):
    return [m for m in d.inbox() if m["peer"] == peer
            and m.get("kind") == "missed_call"]


def out_to(d, peer):
    return [m for m in d.inbox() if m["peer"] == peer
            and m["direction"] == "out"]


class Miskol(Case):
    def start(self, profile="sim800", extra=None):
        # Tuesday 24 November 2026, 10:00 WITA (UTC+8): office open
        self.clock = os.path.join(self.tmp, "clock")
        off = calendar.timegm((2026, 11, 24, 2, 0, 0)) - int(time.time())
        with open(self.clock, "w") as f:
            f.write(str(off))
        os.environ["SIMPUL_FAKE_CLOCK_FILE"] = self.clock
        self.addCleanup(os.environ.pop, "SIMPUL_FAKE_CLOCK_FILE", None)
        self.s = self.sim(profile=profile)
        self.d = self.daemon(modem_device=self.s.link, extra=extra)
        self.d.start()
        wait_for(lambda: "modem: ready" in self.d.read_log(),
                 what="modem ready")

    def call(self, number, rings=6):
        n = len(json.loads(self.s.ctl("calls")))
        self.s.ctl(f"call {number} {rings}")
        return wait_for(lambda: (lambda c: c if len(c) > n and
                                 not c[n]["active"] else None)(
            json.loads(self.s.ctl("calls"))), what="call over")[n]

    def sent_to(self, number):
        # whole messages only: a long reply arrives part by part
        return [s for s in self.s.sent() if s["to"] == number
                and s["received_parts"] == s["parts"]]

    def test_call_is_hung_up_stored_and_answered_once(self):
        self.start()
        peer = "+6281234567001"
        c = self.call(peer)
        # never answered: hung up on the second ring (the default)
        self.assertEqual(c["ended_by"], "ATH")
        self.assertEqual(c["rings"], 2)
        item = wait_for(lambda: calls_of(self.d, peer), what="item")[0]
        self.assertEqual(item["channel"], "sms")
        self.assertEqual(item["direction"], "in")
        self.assertIn("Panggilan tak terjawab", item["body"])
        reply = wait_for(lambda: self.sent_to(peer), what="SMS back")[0]
        self.assertIn(CALL_BACK_NOTE, reply["text"])
        self.assertIn("1", reply["text"])  # the numbered menu

        # A second call within [miskol] reply_hours: an item, no SMS.
        self.call(peer)
        wait_for(lambda: len(calls_of(self.d, peer)) == 2,
                 what="second item")
        # the reply is decided in the transaction that stores the item
        self.assertEqual(len(out_to(self.d, peer)), 1)
        self.assertEqual(len(self.sent_to(peer)), 1)
        self.assertIn("no reply to the missed call from " + peer,
                      self.d.read_log())

    def test_withheld_number_recorded_never_answered(self):
        self.start(profile="e3531")
        c = self.call("hidden")
        self.assertEqual(c["ended_by"], "AT+CHUP")  # Huawei: AT+CHUP
        item = wait_for(lambda: calls_of(self.d, "TERSEMBUNYI"),
                        what="item for the withheld number")[0]
        self.assertIn("disembunyikan", item["body"])
        self.assertEqual(out_to(self.d, "TERSEMBUNYI"), [])
        self.assertEqual(self.s.sent(), [])

    def test_e3531_call_with_number_answered(self):
        self.start(profile="e3531",
                   extra={"modem": {"hangup_after_rings": "3"},
                          "miskol": {"reply": "Terima kasih, {office} "
                                              "akan menelepon Anda."}})
        peer = "+6281234567003"
        c = self.call(peer)
        self.assertEqual(c["ended_by"], "AT+CHUP")
        self.assertEqual(c["rings"], 3)
        r = wait_for(lambda: self.sent_to(peer), what="SMS back")[0]
        self.assertEqual(r["text"], "Terima kasih, Kelurahan Contoh akan "
                                    "menelepon Anda.")

    def test_caller_gives_up_before_hang_up(self):
        self.start()
        peer = "+6281234567004"
        c = self.call(peer, rings=1)
        self.assertEqual(c["ended_by"], "caller")
        wait_for(lambda: calls_of(self.d, peer), what="item")
        wait_for(lambda: self.sent_to(peer), what="SMS back")

    def test_operator_notice_becomes_item_for_real_caller(self):
        self.start()
        self.s.sms("TELKOMSEL", "Anda mendapat panggilan tak terjawab dari "
                                "0812-3456-7002 pada 24/11 09:58. Info *123#")
        peer = "+6281234567002"
        item = wait_for(lambda: calls_of(self.d, peer), what="item")[0]
        self.assertIn("Panggilan tak terjawab", item["body"])
        self.assertEqual([m for m in self.d.inbox()
                          if m["peer"] == "TELKOMSEL"], [])
        r = wait_for(lambda: self.sent_to(peer), what="SMS back")[0]
        self.assertIn(CALL_BACK_NOTE, r["text"])
        # the notice was consumed: deleted from the SIM
        wait_for(lambda: self.s.stored() == [], what="SIM emptied")
        # a resident writing the same words is a message, not a call
        self.s.sms("+6281234567005", "panggilan tak terjawab dari "
                                     "081234567006")
        wait_for(lambda: [m for m in self.d.inbox()
                          if m["peer"] == "+6281234567005"], what="message")
        self.assertEqual(calls_of(self.d, "+6281234567006"), [])

    def test_call_back_is_recorded(self):
        self.start()
        peer = "+6281234567007"
        self.call(peer)
        item = wait_for(lambda: calls_of(self.d, peer), what="item")[0]
        self.assertIsNone(item["called_back_by"])
        st, body = harness.unix_request(
            self.d.sock, "POST", f"/api/v1/messages/{item['id']}/callback",
            {})
        self.assertEqual(st, 201, body)
        item = calls_of(self.d, peer)[0]
        self.assertEqual(item["called_back_by"], "simpulctl")
        self.assertIsInstance(item["called_back_at_ms"], int)
        # only a missed call can be called back
        text = wait_for(lambda: out_to(self.d, peer), what="reply")[0]
        st, _ = harness.unix_request(
            self.d.sock, "POST", f"/api/v1/messages/{text['id']}/callback",
            {})
        self.assertEqual(st, 404)


if __name__ == "__main__":
    harness.main()
