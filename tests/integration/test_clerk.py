#!/usr/bin/env python3
"""The clerk's day (issue 16), through the same API the staff inbox uses:
the queue holds only work (questions the rules answered, promos and a
Ketua RT's YA stay out of it), people are found by name and by any form
of their number, the list shows what the resident wrote, and live
updates arrive as Server-Sent Events. The daemon believes it is Tuesday
24 November 2026, 10:00 WITA (the office is open)."""
import calendar
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402
from test_api import Client, add_user  # noqa: E402

OPEN = (2026, 11, 24, 2, 0, 0)  # Tuesday 10:00 WITA


def ids(items):
    return [c["id"] for c in items]


class Clerk(H.Case):
    def start(self, modem=True, extra=None):
        clock = os.path.join(self.tmp, "clock")
        with open(clock, "w") as f:
            f.write(str(calendar.timegm(OPEN) - int(time.time())))
        os.environ["SIMPUL_FAKE_CLOCK_FILE"] = clock
        self.addCleanup(os.environ.pop, "SIMPUL_FAKE_CLOCK_FILE", None)
        self.g = self.graph()
        self.s = self.sim() if modem else None
        rt_ini = os.path.join(self.tmp, "rt.ini")
        with open(rt_ini, "w") as f:
            f.write("[rt 03]\nrw = 05\nhead = Pak Budi\n"
                    "phone = 0812-9999-0001\n")
        self.d = self.daemon(graph_url=self.g.url,
                             modem_device=self.s.link if modem else None,
                             extra=dict({"rt": {"file": rt_ini}},
                                        **(extra or {}))).start()
        if modem:
            H.wait_for(lambda: "-> ready" in self.d.read_log()
                       or "modem: ready" in self.d.read_log(),
                       what="modem ready")
        self.assertEqual(add_user(self.d, "siti", "admin").returncode, 0)
        self.c = Client(self.d)
        self.assertEqual(self.c.login()[0], 200)

    def wa(self, wamid, frm, text, name="Warga"):
        # sent a minute before the daemon's (pinned) now: our replies
        # come after it
        st, _ = H.post_webhook(self.d, H.wa_text(
            wamid, frm, text, name=name, ts=calendar.timegm(OPEN) - 60))
        self.assertEqual(st, 200)

    def box(self, box, **kw):
        q = "&".join(f"{k}={v}" for k, v in dict(box=box, **kw).items())
        return self.c.json("GET", f"/api/v1/conversations?{q}")["items"]

    def conv_of(self, number):
        items = self.c.json("GET", "/api/v1/conversations?q=" + number)
        self.assertEqual(len(items["items"]), 1, items)
        return items["items"][0]

    # ---- triage -------------------------------------------------------

    def test_answered_question_leaves_the_queue_until_asked_for_a_person(self):
        self.start(modem=False)
        self.wa("wamid.t1", "6281300000001", "jam buka kantor kapan?")
        H.wait_for(lambda: self.box("otomatis"), what="answered by rules")
        c = self.box("otomatis")[0]
        self.assertEqual(c["status"], "otomatis")
        self.assertEqual(self.box("kerja"), [])
        # the resident is not content: back to the clerk
        self.wa("wamid.t2", "6281300000001", "saya tidak paham, mau bicara"
                " dengan petugas")
        H.wait_for(lambda: self.box("kerja"), what="back in the queue")
        self.assertEqual(self.box("kerja")[0]["status"], "baru")
        self.assertEqual(self.box("otomatis"), [])

    def test_complaint_stays_in_the_queue(self):
        self.start(modem=False)
        self.wa("wamid.c1", "6281300000002",
                "lampu jalan di RT 4 mati sudah 3 hari")
        H.wait_for(lambda: self.box("kerja"), what="complaint in queue")
        self.assertEqual(self.box("otomatis"), [])

    def test_list_shows_what_the_resident_wrote(self):
        self.start(modem=False)
        self.wa("wamid.l1", "6281300000003", "syarat kk apa saja")
        conv = H.wait_for(lambda: [
            c for c in self.box("")
            if c["last"] and c["unread"] >= 1], what="conversation")[0]
        H.wait_for(lambda: len(self.c.json(
            "GET", f"/api/v1/conversations/{conv['id']}")["messages"]) >= 2,
            what="the auto-reply stored")
        c = self.box("")[0]
        self.assertEqual(c["last"]["direction"], "in")
        self.assertEqual(c["last"]["body"], "syarat kk apa saja")

    def test_promo_goes_to_lainnya(self):
        self.start()
        self.s.sms("TELKOMSEL", "Nikmati kuota 10GB hanya Rp10rb")
        self.s.sms("3636", "Sisa pulsa Anda Rp 5.000")
        H.wait_for(lambda: len(self.box("lainnya")) == 2, what="two promos")
        self.assertEqual(self.box("kerja"), [])
        names = sorted(c["contact"]["raw"] for c in self.box("lainnya"))
        self.assertEqual(names, ["3636", "TELKOMSEL"])

    def test_head_answer_opens_no_new_work(self):
        self.start()
        self.s.sms("+6281300000004", "Pak, lampu jalan depan rumah mati")
        conv = H.wait_for(lambda: self.box("kerja"), what="resident")[0]
        self.c.json("POST", f"/api/v1/conversations/{conv['id']}/rt",
                    {"rt": "003/005"})
        r = self.c.json("POST", "/api/v1/rt/requests",
                        {"conversation": conv["id"]}, expect=201)
        H.wait_for(lambda: [m for m in self.s.sent()
                            if r["code"] in m["text"]], what="ask sent")
        self.s.sms("+6281299990001", f"YA {r['code']}")
        H.wait_for(lambda: self.c.json(
            "GET", f"/api/v1/rt/requests?all=1&conversation={conv['id']}"
        )[0]["state"] == "disetujui", what="approved")
        # the queue holds the resident's conversation only
        self.assertEqual(ids(self.box("kerja")), [conv["id"]])
        head = [c for c in self.box("otomatis")
                if c["contact"]["phone"] == "+6281299990001"]
        self.assertEqual(len(head), 1)
        self.assertEqual(head[0]["last"]["body"], f"YA {r['code']}")
        # the answer is on the request's conversation
        one = self.c.json("GET", f"/api/v1/conversations/{conv['id']}")
        self.assertTrue(any("MEMBENARKAN" in n["body"]
                            for n in one["notes"]))

    # ---- people -------------------------------------------------------

    def test_find_a_person_by_any_number_form_and_by_name(self):
        self.start()
        self.wa("wamid.p1", "6281355550001", "selamat pagi, mau tanya",
                name="Sari")
        self.s.sms("+6281355550001", "ini Sari lewat SMS")
        self.wa("wamid.p2", "6281299998888", "halo", name="Joko")
        H.wait_for(lambda: len(self.box("")) == 2, what="two residents")
        for q in ("0813", "081355550001", "0813-5555-0001", "62813555",
                  "%2B62%20813%205555", "Sari", "sari"):
            found = self.c.json("GET", f"/api/v1/conversations?q={q}")
            self.assertEqual([c["contact"]["wa_id"] for c in found["items"]],
                             ["6281355550001"], q)
        sari = self.conv_of("Sari")
        self.assertEqual(sorted(sari["channels"]), ["sms", "whatsapp"])
        # staff give a name; a later WhatsApp profile does not undo it
        k = sari["contact"]["id"]
        self.c.json("POST", f"/api/v1/contacts/{k}",
                    {"name": "Bu Sari Wulandari", "rt": "03", "rw": "05",
                     "notes": "Penjual sayur"})
        self.wa("wamid.p3", "6281355550001", "terima kasih", name="S@ri")
        H.wait_for(lambda: len(self.c.json(
            "GET", f"/api/v1/contacts/{k}")["conversations"]) >= 1,
            what="contact page")
        page = self.c.json("GET", f"/api/v1/contacts/{k}")
        self.assertEqual(page["contact"]["name"], "Bu Sari Wulandari")
        self.assertEqual(page["contact"]["profile_name"], "S@ri")
        self.assertEqual(page["contact"]["rw"], "05")
        self.assertEqual(page["contact"]["notes"], "Penjual sayur")
        self.assertEqual(ids(self.c.json(
            "GET", "/api/v1/conversations?q=wulandari")["items"]),
            [sari["id"]])
        self.assertEqual(self.c.req("GET", "/api/v1/contacts/999")[0], 404)

    def test_category_filter_by_its_last_part(self):
        self.start(modem=False)
        self.wa("wamid.k1", "6281300000005", "syarat bikin ktp baru apa")
        H.wait_for(lambda: self.box("", category="ktp"), what="ktp")
        self.assertEqual(self.box("", category="ktp")[0]["category"],
                         "layanan/ktp")
        cats = self.c.json("GET", "/api/v1/categories")
        self.assertIn("layanan/ktp", [c["slug"] for c in cats])

    # ---- staff accounts (the admin page) ------------------------------

    def test_admin_disables_a_user_and_resets_a_password(self):
        self.start(modem=False)
        self.assertEqual(add_user(self.d, "budi", "staff").returncode, 0)
        budi = Client(self.d)
        self.assertEqual(budi.login("budi")[0], 200)
        self.assertEqual(budi.req("GET", "/api/v1/me")[0], 200)
        # a staff member may not, an admin may
        self.assertEqual(budi.req("POST", "/api/v1/users/siti/disable")[0],
                         403)
        self.assertEqual(self.c.req("POST", "/api/v1/users/siti/disable")[0],
                         409)  # not oneself
        self.c.json("POST", "/api/v1/users/budi/disable")
        self.assertEqual(budi.req("GET", "/api/v1/me")[0], 401)
        self.assertNotIn("budi", [u["name"] for u in self.c.json(
            "GET", "/api/v1/users")])
        self.assertEqual(self.c.req("POST", "/api/v1/users/x/disable")[0],
                         404)
        # a new password (the same call as simpulctl user add --replace)
        # enables the account again
        self.c.json("POST", "/api/v1/users",
                    {"name": "budi", "role": "staff",
                     "password": "sandi-baru-123", "replace": True},
                    expect=201)
        again = Client(self.d)
        self.assertEqual(again.login("budi", "sandi-baru-123")[0], 200)

    # ---- the monthly report -------------------------------------------

    def set_clock(self, t):
        with open(os.environ["SIMPUL_FAKE_CLOCK_FILE"], "w") as f:
            f.write(str(int(t) - int(time.time())))

    def test_report_of_a_seeded_month_and_its_csv(self):
        self.start(modem=False)
        t0 = calendar.timegm((2026, 10, 6, 2, 0, 0))  # Tue 10:00 WITA
        self.set_clock(t0)
        for wamid, frm, text, ts in (
                ("wamid.r1", "6281300000021",
                 "lampu jalan mati di depan rumah RT 2", t0),
                ("wamid.r2", "6281300000022", "syarat kk apa saja", t0)):
            st, _ = H.post_webhook(self.d, H.wa_text(wamid, frm, text,
                                                     ts=ts))
            self.assertEqual(st, 200)
        lamp = H.wait_for(lambda: [c for c in self.box("", q="lampu")
                                   if c["ticket"]], what="ticket")[0]
        # ten minutes later siti answers and resolves the complaint
        self.set_clock(t0 + 600)
        self.c.json("POST", f"/api/v1/conversations/{lamp['id']}/reply",
                    {"text": "Petugas kami cek hari ini."}, expect=201)
        self.c.json("POST", f"/api/v1/conversations/{lamp['id']}/status",
                    {"status": "selesai"})
        r = self.c.json("GET", "/api/v1/reports?month=2026-10")
        self.assertEqual(r["month"], "2026-10")
        self.assertEqual(len(r["days"]), 31)
        day = r["days"][5]
        self.assertEqual(day["date"], "2026-10-06")
        self.assertEqual((day["wa_in"], day["wa_out"], day["sms_in"]),
                         (2, 3, 0))
        self.assertEqual(sum(d["wa_in"] for d in r["days"]), 2)
        self.assertEqual(sorted((c["category"], c["count"])
                                for c in r["categories"]),
                         [("layanan/kk", 1), ("pengaduan/lampu", 1)])
        self.assertEqual(r["tickets"], {"opened": 1, "closed": 1,
                                        "closed_in_time": 1,
                                        "percent_in_time": 100})
        self.assertEqual(r["first_response"],
                         [{"user": "siti", "count": 1,
                           "median_minutes": 10}])
        self.assertEqual(r["rt"]["asked"], 0)
        # the survey is off by default: resolving asked nothing
        self.assertEqual(r["satisfaction"]["asked"], 0)
        # the CSV holds the same numbers
        st, body, hdr = self.c.req("GET", "/api/v1/reports/csv?month=2026-10")
        self.assertEqual(st, 200)
        self.assertIn("text/csv", hdr["Content-Type"])
        self.assertIn("laporan-simpul-2026-10.csv",
                      hdr["Content-Disposition"])
        lines = body.decode().split("\r\n")
        i = lines.index("Pesan per hari")
        self.assertEqual(lines[i + 1],
                         "tanggal,sms_masuk,sms_keluar,wa_masuk,wa_keluar")
        self.assertEqual(lines[i + 7], "2026-10-06,0,0,2,3")
        self.assertEqual(lines[lines.index("Tiket") + 2], "1,1,1,100")
        self.assertEqual(lines[lines.index("Tanggapan pertama petugas")
                               + 2], "siti,1,10")
        # another month has none of it
        nov = self.c.json("GET", "/api/v1/reports?month=2026-11")
        self.assertEqual(sum(d["wa_in"] for d in nov["days"]), 0)
        self.assertEqual(self.c.req("GET", "/api/v1/reports?month=26-1")[0],
                         400)

    def test_satisfaction_survey_after_resolve(self):
        self.start(modem=False, extra={"survey": {"enabled": "yes"}})
        self.wa("wamid.s1", "6281300000031", "lampu jalan mati di gang 3")
        conv = H.wait_for(lambda: self.box("kerja"), what="complaint")[0]
        self.c.json("POST", f"/api/v1/conversations/{conv['id']}/status",
                    {"status": "selesai"})
        H.wait_for(lambda: "Balas angka 1-5" in json.dumps(
            self.g.requests()), what="the survey question")
        self.wa("wamid.s2", "6281300000031", " 5 ")
        H.wait_for(lambda: "penilaian Anda" in json.dumps(
            self.g.requests()), what="the thanks")
        # the answer opened nothing: one conversation, the resolved one
        allc = self.box("")
        self.assertEqual(ids(allc), [conv["id"]])
        self.assertEqual(allc[0]["status"], "selesai")
        self.assertEqual(self.box("kerja"), [])
        sv = self.c.json("GET", "/api/v1/reports")["satisfaction"]
        self.assertEqual((sv["asked"], sv["answered"], sv["s5"],
                          sv["average_tenths"]), (1, 1, 1, 50))
        # a second "4" is an ordinary message (already answered)
        self.wa("wamid.s3", "6281300000031", "4")
        H.wait_for(lambda: len(self.box("")) == 2, what="a new one")

    # ---- live updates -------------------------------------------------

    def sse(self, last=None):
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=30)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.c.jar)
        extra = f"Last-Event-ID: {last}\r\n" if last is not None else ""
        s.sendall((f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n"
                   f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n"
                   f"{extra}\r\n").encode())
        return s

    @staticmethod
    def read_until(s, marker):
        buf = b""
        while marker not in buf:
            d = s.recv(4096)
            if not d:
                raise AssertionError(f"stream closed: {buf!r}")
            buf += d
        return buf.decode()

    def test_events_reach_every_tab_and_resume(self):
        self.start(modem=False)
        self.wa("wamid.e0", "6281300000006", "halo")
        tabs = [self.sse() for _ in range(10)]
        first = [self.read_until(t, b"event: change") for t in tabs]
        for f in first:
            self.assertIn("text/event-stream", f)
            self.assertIn("retry: 3000", f)
        rev = int(first[0].split("id: ")[1].split()[0])
        # a tab that reconnects with the newest id hears only what is new
        again = self.sse(last=rev)
        self.read_until(again, b"retry:")
        tabs.append(again)
        self.wa("wamid.e1", "6281300000006", "lampu jalan mati")
        for t in tabs:
            ev = self.read_until(t, b"event: change\ndata")
            ids_ = [int(x.split()[0]) for x in ev.split("id: ")[1:]]
            self.assertGreater(ids_[-1], rev)
            if t is again:
                self.assertTrue(all(i > rev for i in ids_), ev)
        # without a session there is no stream
        self.assertEqual(H.http("GET", self.d.url("/api/v1/events"))[0],
                         401)
        # a tab closed while its stream sleeps, then simpuld stops with
        # the other streams open: a clean exit (libmicrohttpd aborts
        # when stopped with a suspended connection)
        tabs[0].close()
        self.assertEqual(self.d.stop(), 0, self.d.read_log()[-400:])
        for t in tabs[1:]:
            t.close()


if __name__ == "__main__":
    H.main()
