"""Ketua RT confirmation end to end: simpul-modemsim -> simpuld -> the
head's SMS -> the head's answer -> the resident told."""
import json
import os
import re
import socket
import urllib.parse

import harness
from harness import CALENDAR, Case, wait_for

# The shipped reminder and expiry, in working hours (etc/simpul.ini [rt]).
_ini = harness._ini(os.path.join(harness.TOP, "etc", "simpul.ini"))
REMIND_H = int(_ini["rt"]["reminder_hours"])
EXPIRE_H = int(_ini["rt"]["expire_hours"])
RESIDENT = "+6281234567890"
RESIDENT2 = "+6285711112222"
HEAD = "+6281299990001"          # registered as 0812-9999-0001
HEAD_OTHER_FORM = "6281299990001"  # how the same phone may arrive
HEAD4 = "+6281355550004"
RW_HEAD = "+6281577770005"
STRANGER = "+6287766665555"

RT_INI = """
[rt 03]
rw = 05
head = Pak Budi
phone = 0812-9999-0001

[rt 04]
rw = 05
head = Ibu Sari
phone = +62 813 5555 0004

[rw 05]
head = Pak Hasan
phone = 0815-7777-0005
"""


def unix_post(sock_path, path, obj):
    """POST over simpuld's local socket (trusted, like simpulctl)."""
    body = json.dumps(obj).encode()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(sock_path)
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
              f"Content-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
              .encode() + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return int(data.split(b" ", 2)[1])


class Rt(Case):
    def start(self, **rt_keys):
        rt_file = os.path.join(self.tmp, "rt.ini")
        with open(rt_file, "w") as f:
            f.write(RT_INI)
        self.s = self.sim()
        keys = {"file": rt_file, "check_interval": "1",
                "reminder_hours": str(REMIND_H),
                "expire_hours": str(EXPIRE_H)}
        keys.update(rt_keys)
        self.d = self.daemon(modem_device=self.s.link, extra={"rt": keys})
        self.d.start()
        return self.d

    def sent_to(self, number, pattern=""):
        return [m for m in self.s.sent()
                if m["to"] == number and re.search(pattern, m["text"])]

    def requests(self, all_=True):
        args = ["rt", "list", "--json"] + (["--all"] if all_ else [])
        return json.loads(self.d.ctl(*args).stdout)

    def conversation(self, conv):
        return json.loads(self.d.ctl("show", str(conv), "--json").stdout)

    def notes(self, conv):
        return " | ".join(n["body"] for n in
                          self.conversation(conv).get("notes", []))

    def ask(self, resident=RESIDENT, text="mau urus KTP, saya warga RT 3",
            head=HEAD):
        """A resident asks for a service with rt_confirm; returns the
        request and the SMS the head got."""
        n = len(self.sent_to(head))
        self.s.sms(resident, text)
        asks = wait_for(lambda: self.sent_to(head, r"Balas YA \d{6}")[n:],
                        what="SMS to the Ketua RT")
        req = [r for r in self.requests() if r["state"] == "menunggu"
               and r["code"] in asks[0]["text"]][0]
        return req, asks[0]

    def shift_to(self, ms):
        """Moves the daemon's clock to a minute after ms (epoch)."""
        self.pin(ms // 1000 + 60)

    # --------------------------------------------------------------

    def test_yes_from_another_written_form_confirms(self):
        self.start()
        req, ask = self.ask()
        code = req["code"]
        self.assertRegex(ask["text"], rf"YA {code} jika benar warga RT 03, "
                                      rf"atau TIDAK {code}\.")
        self.assertIn("KTP", ask["text"])
        self.assertIn("081234567890", ask["text"])
        self.assertEqual(ask["parts"], 1, "the ask fits one SMS")
        self.assertEqual(req["head_phone"], HEAD)
        self.assertEqual(self.conversation(req["conversation"])["status"],
                         "menunggu_rt")

        self.s.sms(HEAD_OTHER_FORM, f"ya {code}")
        told = wait_for(lambda: self.sent_to(RESIDENT, "membenarkan"),
                        what="resident told")[0]["text"]
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["state"], "disetujui")
        self.assertEqual(r["answered_by"], HEAD)
        self.assertEqual(r["answer_raw"], f"ya {code}")
        self.assertIn(r["ticket"], told)
        self.assertRegex(told, r"perkiraan selesai \w+ \d\d/\d\d/\d{4}")
        notes = self.notes(req["conversation"])
        self.assertIn("Pak Budi", notes)
        self.assertIn(f'"ya {code}"', notes)
        # the head gets a short thank-you, no auto-reply menu
        wait_for(lambda: self.sent_to(HEAD, "Terima kasih"),
                 what="thanks to the head")
        events = [e["event"] for e in r["log"]]
        self.assertEqual(events[:2], ["opened", "asked"])
        self.assertIn("approved", events)

    def searched(self, q):
        """Ids of the conversations the inbox's search finds for q."""
        st, body = harness.unix_request(
            self.d.sock, "GET", "/api/v1/conversations?limit=50&q="
            + urllib.parse.quote(q))
        self.assertEqual(st, 200, body)
        return {c["id"] for c in json.loads(body)["items"]}

    def assert_found(self, conv, text):
        """text, a message of conversation conv, is found by search: by a
        word of it that no other message there and no name has."""
        c = self.conversation(conv)
        others = " ".join(m["body"] for m in c["messages"]
                          if m["body"] != text)
        others += " " + json.dumps(c["contact"])
        words = [w for w in re.findall(r"[a-z]{5,}", text.lower())
                 if w not in others.lower()]
        self.assertTrue(words, f"no word of its own in {text!r}")
        self.assertIn(conv, self.searched(words[0]),
                      f"{words[0]!r} of {text!r} not found")

    def test_every_message_is_found_by_search_once_stored(self):
        """Messages are indexed for search by the commit that stores them
        (schema 14), not by a trigger: each way a message is stored is
        found at once. A resident's SMS with the RT ask it makes (the
        inbound group commit), the head's answer and the resident told
        (an outcome queued in the answer's commit), a WhatsApp message
        with its auto-reply (the webhook group commit) and a staff reply
        (no transaction of its own; tests/core/test_store_list.c has the
        others)."""
        g = self.graph()
        rt_file = os.path.join(self.tmp, "rt.ini")
        with open(rt_file, "w") as f:
            f.write(RT_INI)
        self.s = self.sim()
        self.d = self.daemon(modem_device=self.s.link, graph_url=g.url,
                             extra={"rt": {"file": rt_file,
                                           "check_interval": "1"}})
        self.d.start()
        req, ask = self.ask(text="mau urus KTP, saya warga RT 3, "
                                 "rumah dekat lapangan voli")
        conv, head_conv = req["conversation"], None
        self.assert_found(conv, "mau urus KTP, saya warga RT 3, "
                                "rumah dekat lapangan voli")
        for c in json.loads(self.d.ctl("inbox", "--json").stdout):
            if c.get("peer") == HEAD and c.get("direction") == "out":
                head_conv = c["conversation"]
        self.assertIsNotNone(head_conv)
        self.assert_found(head_conv, ask["text"])

        self.s.sms(HEAD, f"ya {req['code']}")
        told = wait_for(lambda: self.sent_to(RESIDENT, "membenarkan"),
                        what="resident told")[0]["text"]
        self.assert_found(conv, told)

        st, _ = harness.post_webhook(self.d, harness.wa_text(
            "wamid.search1", "6281388880001",
            "selamat siang, jembatan bambu di kali rusak", name="Warga"))
        self.assertEqual(st, 200)
        wa = wait_for(lambda: [c for c in json.loads(self.d.ctl(
            "inbox", "--json").stdout) if "jembatan" in c["body"]],
            what="WhatsApp message stored")[0]
        self.assert_found(wa["conversation"],
                          "selamat siang, jembatan bambu di kali rusak")
        auto = wait_for(lambda: [m for m in self.conversation(
            wa["conversation"])["messages"] if m["direction"] == "out"],
            what="auto-reply queued")[0]
        self.assert_found(wa["conversation"], auto["body"])

        self.assertEqual(unix_post(self.d.sock,
                                   f"/api/v1/conversations/{conv}/reply",
                                   {"text": "berkasnya sudah kami terima"}),
                         201)
        self.assert_found(conv, "berkasnya sudah kami terima")

    def test_request_not_sent_is_noted_once(self):
        """A resident whose RT is not known asks for a service that needs
        the Ketua RT's confirmation, three times: the clerk reads once
        that the request was not sent, not once per SMS, and no head is
        asked."""
        self.start()
        for i in range(3):
            self.s.sms(RESIDENT2, "mau urus KTP" + " ya" * i)
        conv = wait_for(lambda: [
            c for c in json.loads(self.d.ctl("inbox", "--json").stdout)
            if c.get("peer") == RESIDENT2 and "ya ya" in c["body"]],
            what="the third SMS stored")[0]["conversation"]
        notes = [n["body"] for n in
                 self.conversation(conv).get("notes", [])]
        unsent = [n for n in notes if "belum dikirim" in n]
        self.assertEqual(len(unsent), 1, notes)
        self.assertIn("RT warga belum diketahui", unsent[0])
        self.assertEqual(self.requests(), [])

    def test_no_with_reason_is_shown(self):
        self.start()
        req, _ = self.ask()
        self.s.sms(HEAD, f"TIDAK {req['code']} bukan warga sini")
        wait_for(lambda: [x for x in self.requests()
                          if x["id"] == req["id"]
                          and x["state"] == "ditolak"], what="rejected")
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["reason"], "bukan warga sini")
        self.assertIn("Alasan: bukan warga sini", self.notes(req["conversation"]))
        told = wait_for(lambda: self.sent_to(RESIDENT, "belum membenarkan"),
                        what="resident told of the rejection")[0]["text"]
        self.assertIn(r["ticket"], told)

    def test_answer_from_another_number_is_not_accepted(self):
        self.start()
        req, _ = self.ask()
        self.s.sms(STRANGER, f"YA {req['code']}")
        wait_for(lambda: "PERLU DICEK" in self.notes(req["conversation"]),
                 what="flag for staff")
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["state"], "menunggu")
        self.assertIn(STRANGER, self.notes(req["conversation"]))
        wait_for(lambda: self.sent_to(STRANGER, "hanya diterima"),
                 what="reply to the stranger")
        self.assertFalse(self.sent_to(RESIDENT, "membenarkan"))

    def test_alphanumeric_sender_is_never_a_head_or_resident(self):
        """A sender ID (TP-OA type of number 101) spelling the head's or a
        resident's number is not that number: it cannot approve, does not
        write into the resident's conversation, gets no reply."""
        self.start()
        req, _ = self.ask()
        answer = f"YA {req['code']}"
        self.s.pdu(harness.deliver_pdu("81299990001", answer))
        self.s.pdu(harness.deliver_pdu("81234567890", "mau urus KTP, RT 03"))
        bodies = (answer, "mau urus KTP, RT 03")
        ins = wait_for(lambda: [m for m in self.d.inbox()
                                if m["direction"] == "in"
                                and m["body"] in bodies][1:],
                       what="both alphanumeric messages stored")
        ins = [m for m in self.d.inbox()
               if m["direction"] == "in" and m["body"] in bodies]
        self.assertEqual(sorted(m["peer"] for m in ins),
                         ["81234567890", "81299990001"])
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["state"], "menunggu")
        self.assertEqual(len(self.requests()), 1)
        self.assertNotIn(req["conversation"],
                         [m["conversation"] for m in ins])
        convs = {m["conversation"] for m in ins}
        self.assertFalse([m for m in self.d.inbox() if m["direction"] == "out"
                          and m["conversation"] in convs])

    def test_no_oracle_for_codes(self):
        """A number that is not a head's learns nothing about which codes
        exist: the same reply for an open request's code and for any other,
        and staff see only the real one flagged."""
        self.start()
        req, _ = self.ask()
        fake = "123456" if req["code"] != "123456" else "654321"
        self.s.sms(STRANGER, f"YA {fake}")
        first = wait_for(lambda: self.sent_to(STRANGER),
                         what="reply to a made-up code")[0]["text"]
        self.assertNotIn("PERLU DICEK", self.notes(req["conversation"]))
        self.s.sms(STRANGER, f"YA {req['code']}")
        replies = wait_for(lambda: self.sent_to(STRANGER)[1:] and
                           self.sent_to(STRANGER),
                           what="reply to the real code")
        self.assertEqual(replies[1]["text"], first)
        self.assertIn("PERLU DICEK", self.notes(req["conversation"]))
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["state"], "menunggu")

    def test_attempts_per_number_are_limited(self):
        """After five refused answers in a day a head's number is no longer
        heard, not even with the right code; staff are told."""
        self.start()
        req, _ = self.ask()
        for i in range(5):
            wrong = f"{200000 + i}"
            self.assertNotEqual(wrong, req["code"])
            self.s.sms(HEAD, f"ya {wrong}")
            wait_for(lambda: len(self.sent_to(HEAD, "tidak ditemukan")) > i,
                     what=f"reply to wrong code {i + 1}")
        right = f"ya {req['code']}"
        self.s.sms(HEAD, right)
        wait_for(lambda: [m for m in self.d.inbox() if m["direction"] == "in"
                          and m["body"] == right], what="sixth answer stored")
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["state"], "menunggu")
        head_conv = [m for m in self.d.inbox() if m["body"] == right][0]
        self.assertIn("tidak diproses", self.notes(head_conv["conversation"]))
        outs = [m for m in self.d.inbox() if m["direction"] == "out"
                and m["conversation"] == head_conv["conversation"]]
        self.assertEqual(len(outs), 6)  # the ask and five replies, no more
        self.assertFalse(self.sent_to(RESIDENT, "membenarkan"))

    def test_cek_tells_only_the_ticket_owner(self):
        self.start()
        req, _ = self.ask()
        ticket = req["ticket"]
        self.assertRegex(ticket, r"^[A-Z]+-\d{4}-\d{6}$")
        self.s.sms(STRANGER, f"CEK {ticket}")
        other = wait_for(lambda: self.sent_to(STRANGER, "Tiket"),
                         what="CEK from a stranger")[0]["text"]
        self.assertIn("hubungi kantor", other)
        self.assertNotIn("menunggu", other)
        self.s.sms(STRANGER, "CEK KLS-2611-999999")
        none = wait_for(lambda: self.sent_to(STRANGER, "Tiket")[1:],
                        what="CEK of no ticket")[0]["text"]
        self.assertEqual(none.replace("KLS-2611-999999", ticket), other)
        n = len(self.sent_to(RESIDENT))
        self.s.sms(RESIDENT, f"cek {ticket}")
        own = wait_for(lambda: self.sent_to(RESIDENT)[n:],
                       what="CEK from the owner")[0]["text"]
        self.assertIn("menunggu konfirmasi Ketua RT", own)

    def test_wrong_code_gets_short_help(self):
        self.start()
        req, _ = self.ask()
        wrong = "111111" if req["code"] != "111111" else "222222"
        self.s.sms(HEAD, f"Ya {wrong}")
        help_ = wait_for(lambda: self.sent_to(HEAD, "tidak ditemukan"),
                         what="wrong code reply")[0]
        self.assertIn(req["code"], help_["text"])
        self.assertEqual(help_["parts"], 1)
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["state"], "menunggu")
        # and an answer to a closed request says so
        self.s.sms(HEAD, f"ya {req['code']}")
        wait_for(lambda: self.sent_to(RESIDENT, "membenarkan"), what="ok")
        self.s.sms(HEAD, f"TIDAK {req['code']}")
        wait_for(lambda: self.sent_to(HEAD, "sudah ditutup"),
                 what="closed request reply")

    def test_two_open_requests_need_the_code(self):
        self.start()
        r1, _ = self.ask(RESIDENT, "KTP rt03")
        r2, _ = self.ask(RESIDENT2, "urus KK RT.003")
        self.assertNotEqual(r1["code"], r2["code"])
        self.s.sms(HEAD, "ya")
        ask = wait_for(lambda: self.sent_to(HEAD, "Ada 2 permintaan"),
                       what="asks for the code")[0]["text"]
        self.assertIn(r1["code"], ask)
        self.assertIn(r2["code"], ask)
        self.assertEqual([x["state"] for x in self.requests()],
                         ["menunggu", "menunggu"])
        self.s.sms(HEAD, f"  IYA   {r2['code']} ")
        wait_for(lambda: self.sent_to(RESIDENT2, "membenarkan"),
                 what="second resident told")
        states = {x["id"]: x["state"] for x in self.requests()}
        self.assertEqual(states, {r1["id"]: "menunggu",
                                  r2["id"]: "disetujui"})
        # now only one is open: an answer without the code is enough
        self.s.sms(HEAD, "ok")
        wait_for(lambda: self.sent_to(RESIDENT, "membenarkan"),
                 what="first resident told")

    def test_reminder_then_expiry_on_the_office_calendar(self):
        t0 = harness.now()
        self.start()
        req, ask = self.ask()
        created = req["created_at_ms"] // 1000
        # opened at the pinned instant (a few seconds of slack: the clock
        # ticks, and each process reads it for itself)
        self.assertLessEqual(int(t0) - 5, created)
        self.assertLessEqual(created, harness.now() + 5)
        # due after that many hours of opening time, from the calendar
        remind = CALENDAR.work_after(created, REMIND_H)
        expire = CALENDAR.work_after(created, EXPIRE_H)
        self.assertEqual(req["remind_at_ms"], remind * 1000)
        self.assertEqual(req["expire_at_ms"], expire * 1000)
        self.shift_to(remind * 1000)
        rem = wait_for(lambda: self.sent_to(HEAD, "^Pengingat"),
                       what="reminder")
        self.assertIn(req["code"], rem[0]["text"])
        self.assertEqual(rem[0]["parts"], 1)
        r = [x for x in self.requests() if x["id"] == req["id"]][0]
        self.assertEqual(r["state"], "menunggu")
        # A second request, asked an hour later, is reminded an hour
        # later: its reminder proves the daemon looked at the due requests
        # again after the first reminder, which must not be repeated.
        self.pin(created + 3600)
        req2, _ = self.ask(RESIDENT2, "urus KK RT.003")
        remind2 = CALENDAR.work_after(req2["created_at_ms"] // 1000,
                                      REMIND_H)
        self.assertLess(remind, remind2)
        self.assertLess(remind2, expire)
        self.shift_to(remind2 * 1000)
        wait_for(lambda: self.sent_to(HEAD, "^Pengingat.*" + req2["code"]),
                 what="the second request's reminder")
        wait_for(lambda: not [m for m in self.d.inbox()
                              if m["direction"] == "out"
                              and m["status"] in ("queued", "sending")],
                 what="nothing left to send")
        self.assertEqual(len(self.sent_to(HEAD, "^Pengingat.*" +
                                          req["code"])), 1)
        self.shift_to(expire * 1000)
        wait_for(lambda: [x for x in self.requests()
                          if x["state"] == "kedaluwarsa"], what="expired")
        self.assertIn("PERLU TINDAK LANJUT", self.notes(req["conversation"]))
        rw = wait_for(lambda: self.sent_to(RW_HEAD, "belum menjawab"),
                      what="RW head told")
        self.assertIn("RT 03", rw[0]["text"])
        # a late answer is told the request is closed
        self.s.sms(HEAD, f"ya {req['code']}")
        wait_for(lambda: self.sent_to(HEAD, "sudah ditutup"),
                 what="late answer reply")
        self.assertFalse(self.sent_to(RESIDENT, "membenarkan"))

    def test_staff_request_by_simpulctl(self):
        self.start()
        self.s.sms(RESIDENT2, "Selamat pagi, saya warga RT 04/05")
        conv = wait_for(lambda: [m for m in self.d.inbox()
                                 if m["direction"] == "in"],
                        what="message")[0]["conversation"]
        # the RT is not known from the contact yet: the staff set it
        r = self.d.ctl("rt", "request", str(conv), "--service", "sktm",
                       check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("RT warga belum diketahui", r.stderr)
        # the conversation action "rt", as the web UI sends it
        status = unix_post(self.d.sock, f"/api/v1/conversations/{conv}/rt",
                           {"rt": "004/005"})
        self.assertEqual(status, 200)
        out = self.d.ctl("rt", "request", str(conv), "--service", "sktm")
        self.assertRegex(out.stdout, r"code \d{6} sent to Ketua RT 04")
        ask = wait_for(lambda: self.sent_to(HEAD4, "SKTM"),
                       what="ask to RT 04")[0]
        self.assertIn("RT 04", ask["text"])
        again = self.d.ctl("rt", "request", str(conv), check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("masih menunggu", again.stderr)


if __name__ == "__main__":
    harness.main()
