"""SMS end to end: simpul-modemsim -> simpuld -> store -> replies."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import harness
from harness import Case, wait_for, post_webhook, wa_text


def ins(d, channel=None):
    return [m for m in d.inbox() if m["direction"] == "in"
            and (channel is None or m["channel"] == channel)]


# SMS-SUBMITs among Gammu's real captures: what a second-hand SIM holds.
SUBMITS = ("02", "05", "14", "15", "16", "24", "28", "29", "31")


def dump_pdu(name):
    path = os.path.join(harness.TOP, "tests", "data", "gammu-at-sms",
                        name + ".dump")
    lines = open(path).read().splitlines()
    i = [n for n, x in enumerate(lines) if x.startswith("+CMGR:")][0]
    return lines[i + 1].strip()


class Sms(Case):
    def start(self, profile="sim800", graph=False, sim_args=(), **kw):
        self.s = self.sim(profile=profile, args=sim_args)
        self.g = self.graph() if graph else None
        self.d = self.daemon(modem_device=self.s.link,
                             graph_url=self.g.url if graph else None, **kw)
        self.d.start()
        return self.d

    def wait_empty_sim(self, timeout=60):
        wait_for(lambda: not self.s.stored(), timeout=timeout,
                 what="SIM storage drained")

    def test_single_sms_stored_then_deleted(self):
        d = self.start()
        self.s.sms("+6281234567890", "Selamat pagi, mau tanya syarat KK")
        m = wait_for(lambda: ins(d), what="stored sms")[0]
        self.assertEqual(m["body"], "Selamat pagi, mau tanya syarat KK")
        self.assertEqual(m["peer"], "+6281234567890")
        self.assertEqual(m["channel"], "sms")
        self.wait_empty_sim()

    def fail_commits(self, marker):
        """From now on the store's COMMIT of a message containing marker
        fails (a deferred foreign key, checked by SQLite at COMMIT): as
        when the disk is full at the worst moment."""
        db = sqlite3.connect(self.d.db, timeout=10)
        db.executescript(f"""
            CREATE TABLE test_parent (id INTEGER PRIMARY KEY);
            CREATE TABLE test_child (p INTEGER REFERENCES test_parent(id)
                                     DEFERRABLE INITIALLY DEFERRED);
            CREATE TRIGGER test_fail_commit AFTER INSERT ON messages
            WHEN instr(NEW.body, '{marker}') > 0
            BEGIN INSERT INTO test_child VALUES (-1); END;""")
        db.close()

    def heal_commits(self):
        db = sqlite3.connect(self.d.db, timeout=10)
        db.executescript("DROP TRIGGER test_fail_commit;")
        db.close()

    def test_sms_stays_on_the_sim_when_the_store_commit_fails(self):
        # README, delivery guarantees: an SMS is deleted from the SIM only
        # after it is committed to the database.
        d = self.start()
        wait_for(lambda: "ready: registered" in d.read_log(),
                 what="modem ready")
        self.fail_commits("GAGAL")
        self.s.sms("+6281234567801", "pesan GAGAL disimpan")
        # the rules ran inside the transaction whose COMMIT then failed,
        # and the admin reads why the SMS is still on the SIM
        wait_for(lambda: "for +6281234567801" in d.read_log(),
                 what="the SMS handled up to its commit")
        wait_for(lambda: "could not be stored; it stays on the SIM"
                 in d.read_log(), what="the failed commit logged")
        # a later SMS is stored and deleted: the daemon has been through
        # the SIM since the failure
        self.s.sms("+6281234567802", "pesan berikutnya")
        wait_for(lambda: [m for m in ins(d)
                          if m["peer"] == "+6281234567802"],
                 what="the next SMS stored")
        wait_for(lambda: len(self.s.stored()) <= 1, what="the next deleted")
        self.assertEqual([m["peer"] for m in ins(d)], ["+6281234567802"])
        self.assertEqual(len(self.s.stored()), 1,
                         "the SMS whose commit failed was deleted")
        # once the store works again it is stored, then deleted
        self.heal_commits()
        d.stop()
        d.start()
        wait_for(lambda: len(ins(d)) == 2, timeout=60,
                 what="the kept SMS stored after the restart")
        self.wait_empty_sim()
        self.assertIn("pesan GAGAL disimpan", [m["body"] for m in ins(d)])

    def test_drain_is_one_commit_and_a_bad_sms_stays_alone(self):
        # modem.h ops->listing: the SMS of one +CMGL listing are stored
        # in one transaction and deleted after its COMMIT. When that
        # fails nothing is deleted, and the SIM is listed again at once,
        # SMS by SMS: the others are stored, the one that cannot be
        # stays on the SIM, and is stored once the store works again.
        d = self.start()
        wait_for(lambda: "ready: registered" in d.read_log(),
                 what="modem ready")
        self.fail_commits("GAGAL")
        d.stop()
        texts = [f"antrian {i} mohon info surat domisili" for i in range(6)]
        texts[3] = "antrian 3 GAGAL disimpan"
        for i, t in enumerate(texts):
            self.s.sms(f"+62813{300000 + i:06d}", t)
        wait_for(lambda: len(self.s.stored()) == 6, what="6 SMS on the SIM")
        d.start()
        wait_for(lambda: "could not be stored together" in d.read_log(),
                 what="the listing's failed commit logged")
        wait_for(lambda: len(ins(d)) == 5, what="the other 5 stored")
        wait_for(lambda: len(self.s.stored()) == 1, what="5 deleted")
        good = [t for t in texts if "GAGAL" not in t]
        self.assertEqual(sorted(m["body"] for m in ins(d)), sorted(good))
        self.heal_commits()
        d.stop()
        d.start()
        wait_for(lambda: len(ins(d)) == 6, timeout=60,
                 what="the kept SMS stored after the restart")
        self.wait_empty_sim()
        self.assertEqual(sorted(m["body"] for m in ins(d)), sorted(texts))

    def test_charsets_and_multipart_out_of_order(self):
        d = self.start(profile="e3531")
        texts = {
            "+6281111111111": "Harga {kurung} [siku] ~ ^ \\ | €",
            "+6282222222222": "Terima kasih 🙏 ibu 😊",
            "+6283333333333": ("Laporan drainase: " + "air meluap di gang " * 20).strip(),
        }
        for frm, t in list(texts.items())[:2]:
            self.s.sms(frm, t)
        self.s.ctl("parts +6283333333333 77 3,1,2,2 " + texts["+6283333333333"])
        got = wait_for(lambda: {m["peer"]: m["body"] for m in ins(d)}
                       if len(ins(d)) >= 3 else None, timeout=60,
                       what="three messages")
        self.assertEqual(got, texts)
        self.assertEqual(len(ins(d)), 3)
        self.wait_empty_sim()

    def test_missing_part_stored_with_mark(self):
        d = self.start(extra={"outbox": {"part_timeout": "10"}})
        self.s.ctl("parts +6284444444444 9 3,1 " + "bagian pesan panjang " * 20)
        m = wait_for(lambda: ins(d), timeout=120, what="partial message")[0]
        self.assertEqual(m["status"], "partial")
        self.assertIn("bagian hilang", m["body"])

    def test_two_hundred_sms_exactly_once(self):
        d = self.start(sim_args=("--capacity", "40"))
        rnd = random.Random(7)
        want = []
        for i in range(200):
            kind = i % 4
            frm = f"+62812{100000 + i:06d}"
            if kind == 0:
                t = f"pesan {i} ktp"
            elif kind == 1:
                t = f"pesan {i} harga €{i} [ok]"
            elif kind == 2:
                t = f"pesan {i} 😊 terima kasih"
            else:
                t = f"pesan {i} " + " ".join(["panjang sekali"] * 15)
            want.append((frm, t))
            if kind == 3 and i % 8 == 3:
                self.s.ctl(f"parts {frm} {i % 250} 2,1,2 {t}")
            else:
                self.s.sms(frm, t)
            if i % 25 == 24:  # the simulated SMSC queue is bounded
                wait_for(lambda: len(ins(d)) >= i - 30, timeout=120,
                         what=f"catch up to {i}")
        wait_for(lambda: len(ins(d)) >= 200, timeout=300,
                 what="200 messages")
        # the SIM empty and nothing held at the SMSC: no copy can come in
        self.wait_empty_sim()
        wait_for(lambda: json.loads(self.s.ctl("stats"))["pending"] == 0,
                 what="nothing held at the SMSC")
        got = ins(d)
        self.assertEqual(len(got), 200)
        self.assertEqual(sorted((m["peer"], m["body"]) for m in got),
                         sorted(want))

    def test_send_and_delivery_report(self):
        d = self.start()
        d.ctl("send", "--channel", "sms", "--to", "0812-3456-7890",
              "Surat pengantar Anda sudah jadi.")
        sent = wait_for(lambda: self.s.sent(), what="modem send")
        self.assertEqual(sent[0]["to"], "+6281234567890")
        self.assertEqual(sent[0]["text"], "Surat pengantar Anda sudah jadi.")
        wait_for(lambda: [m for m in d.inbox() if m["direction"] == "out"
                          and m["status"] == "delivered"],
                 what="delivered status")

    def test_long_reply_multipart(self):
        d = self.start()
        text = "Syarat KTP: surat pengantar RT, fotokopi KK. " * 6
        d.ctl("send", "--channel", "sms", "--to", "081234567890", text)
        sent = wait_for(lambda: [x for x in self.s.sent()
                                 if x["received_parts"] == x["parts"]],
                        what="all parts sent")
        self.assertGreater(sent[0]["parts"], 1)
        self.assertEqual(sent[0]["text"], text)

    def test_long_reply_cut_off_goes_on_from_next_part(self):
        # Part 2 is refused (CMS 332, network timeout): the retry sends
        # part 2 and on, under the same reference, so the phone joins it
        # with part 1 and the resident never gets part 1 twice.
        d = self.start()
        self.s.ctl("fault cms 332 1 1")
        text = "Syarat KK baru: surat pengantar RT/RW, buku nikah. " * 6
        d.ctl("send", "--channel", "sms", "--to", "081234567891", text)
        out = wait_for(lambda: [m for m in d.inbox() if m["direction"] ==
                                "out" and m["status"] in ("sent",
                                                          "delivered")],
                       timeout=90, what="long reply sent after the retry")
        sent = [x for x in self.s.sent() if x["to"] == "+6281234567891"]
        self.assertEqual(len(sent), 1, f"parts split or repeated: {sent}")
        self.assertEqual(sent[0]["received_parts"], sent[0]["parts"])
        self.assertEqual(sent[0]["repeated_parts"], 0)
        self.assertEqual(sent[0]["text"], text)
        self.assertIn("part 2 of", d.read_log())  # the fault did bite

    def test_long_reply_delivered_only_when_every_part_is(self):
        # Part 1 goes, part 2 is refused and waits 4 s for its retry;
        # part 1's status report comes meanwhile. The reply is not
        # "delivered" then (the resident has half of it), its retry still
        # happens, and it is delivered once part 2's report is in.
        d = self.start(extra={"outbox": {"retry_base_ms": "4000"}})
        self.s.ctl("fault cms 332 1 1")
        text = "Syarat surat domisili: KTP, KK, surat pengantar RT. " * 6
        d.ctl("send", "--channel", "sms", "--to", "081234567892", text)

        def out():
            return [m for m in d.inbox() if m["direction"] == "out"][0]
        wait_for(lambda: "not reported delivered" in d.read_log(),
                 timeout=60, what="part 1's status report")
        self.assertNotEqual(out()["status"], "delivered",
                            "delivered with a part still to send")
        wait_for(lambda: out()["status"] == "delivered", timeout=90,
                 what="delivered after the last part's report")
        sent = [x for x in self.s.sent() if x["to"] == "+6281234567892"]
        self.assertEqual(len(sent), 1, f"parts split or repeated: {sent}")
        self.assertEqual(sent[0]["received_parts"], sent[0]["parts"])
        self.assertEqual(sent[0]["text"], text)
        self.assertIn("part 2 of", d.read_log())  # the fault did bite

    def test_stop_waits_for_the_sms_being_sent(self):
        # systemctl restart (or an upgrade) while the modem is sending: the
        # send is finished, recorded as sent, and not sent again at start.
        d = self.start()
        self.s.ctl("fault slow 3000")  # +CMGS 3 s after the PDU
        d.ctl("send", "--channel", "sms", "--to", "081234567892",
              "Surat pengantar sudah bisa diambil.")
        wait_for(lambda: [x for x in self.s.sent()
                          if x["to"] == "+6281234567892"],
                 timeout=60, what="the PDU at the modem")
        d.signal(signal.SIGTERM)
        d.proc.wait(30)
        self.assertEqual(d.proc.returncode, 0)
        self.assertIn("once the message being sent is done", d.read_log())
        self.s.ctl("fault clear")
        d.start()
        out = [m for m in d.inbox() if m["direction"] == "out"]
        self.assertEqual(len(out), 1)
        self.assertIn(out[0]["status"], ("sent", "delivered"))
        # a later message sent after the restart: the outbox goes in order,
        # so a re-queued copy of the first would be out before it
        d.ctl("send", "--channel", "sms", "--to", "081234567893", "penanda")
        wait_for(lambda: [x for x in self.s.sent()
                          if x["to"] == "+6281234567893"],
                 timeout=60, what="the marker message sent")
        sent = [x for x in self.s.sent() if x["to"] == "+6281234567892"]
        self.assertEqual(len(sent), 1)

    def test_second_daemon_on_same_config_touches_nothing(self):
        # A second simpuld on the same config (by hand, beside systemd's)
        # must leave the first one's message in flight alone and say why.
        d = self.start()
        self.s.ctl("fault slow 20000")
        d.ctl("send", "--channel", "sms", "--to", "081234567893",
              "Berkas Anda sudah lengkap.")
        wait_for(lambda: [x for x in self.s.sent()
                          if x["to"] == "+6281234567893"],
                 timeout=60, what="the PDU at the modem")
        out = [m for m in d.inbox() if m["direction"] == "out"]
        self.assertEqual(out[0]["status"], "sending")
        r = subprocess.run([harness.SIMPULD, "-c", d.conf],
                           capture_output=True, text=True, timeout=60)
        out = [m for m in d.inbox() if m["direction"] == "out"]
        self.assertEqual(out[0]["status"], "sending")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("another simpuld", r.stderr)
        self.assertIn(str(d.proc.pid), r.stderr)
        d.kill()  # not a 20 s wait for the slow modem in tearDown

    def test_sms_then_whatsapp_one_conversation(self):
        d = self.start(graph=True)
        self.s.sms("081234567890", "ktp")
        wait_for(lambda: ins(d), what="sms")
        post_webhook(d, wa_text("wamid.X1", "6281234567890", "ini foto kk"))
        msgs = wait_for(lambda: ins(d) if len(ins(d)) == 2 else None,
                        what="both")
        self.assertEqual({m["channel"] for m in msgs}, {"sms", "whatsapp"})
        self.assertEqual(len({m["conversation"] for m in msgs}), 1)

    def test_whatsapp_reply_outside_window_goes_by_sms(self):
        d = self.start(graph=True)
        old = int(harness.now()) - 2 * 86400
        post_webhook(d, wa_text("wamid.OLD", "6285711112222", "halo",
                                ts=old))
        conv = wait_for(lambda: ins(d), what="wa message")[0]["conversation"]
        d.ctl("reply", str(conv), "Mohon datang ke kantor hari Senin.")
        sent = wait_for(lambda: [s for s in self.s.sent()
                                 if "Senin" in s["text"]], what="sms reply")
        self.assertEqual(sent[0]["to"], "+6285711112222")

    def test_whatsapp_131047_falls_back_to_sms(self):
        d = self.start(graph=True)
        self.g.script(to="6285733334444", error=131047, times=1)
        d.ctl("send", "--channel", "whatsapp", "--to", "085733334444",
              "Berkas Anda kurang pas foto.")
        sent = wait_for(lambda: [s for s in self.s.sent()
                                 if "pas foto" in s["text"]],
                        what="fallback sms")
        self.assertEqual(sent[0]["to"], "+6285733334444")
        out = [m for m in d.inbox() if m["direction"] == "out"][0]
        self.assertEqual(out["channel"], "sms")

    def test_sigkill_during_drain_loses_and_duplicates_nothing(self):
        s = self.s = self.sim(args=("--capacity", "60"))
        texts = [f"antrian {i} mohon info" for i in range(50)]
        for i, t in enumerate(texts):
            s.sms(f"+62813{200000 + i:06d}", t)
        wait_for(lambda: len(s.stored()) == 50, what="50 SMS on the SIM")
        d = self.d = self.daemon(modem_device=s.link)
        # killed three times just as the modem is ready and the drain of
        # the SIM begins
        for k in range(3):
            d.start(wait=False)
            wait_for(lambda: d.read_log().count("ready: registered") > k,
                     timeout=60, what=f"modem ready before kill {k + 1}")
            d.kill()
        d.start()
        wait_for(lambda: len(ins(d)) >= 50, timeout=120, what="all 50")
        self.wait_empty_sim()
        self.assertEqual(sorted(m["body"] for m in ins(d)), sorted(texts))

    def test_recovers_from_faults_without_loss(self):
        d = self.start()
        n = 0
        for fault in ("hang 4", "garbage", "unplug 3", "reboot"):
            self.s.ctl("fault " + fault)
            n += 1
            self.s.sms(f"+6281555000{n:03d}", f"setelah {fault}")
            wait_for(lambda: len(ins(d)) >= n, timeout=90,
                     what=f"message after {fault}")
        self.assertEqual(len(ins(d)), n)
        self.assertIn("modem", d.read_log())

    def test_send_error_retried_and_queued_reply_sent_after_recovery(self):
        d = self.start()
        self.s.ctl("fault cms 500 1")
        d.ctl("send", "--channel", "sms", "--to", "081234567890", "coba lagi")
        wait_for(lambda: [x for x in self.s.sent() if x["text"] == "coba lagi"],
                 timeout=60, what="retried send")
        self.s.ctl("fault hang 6")
        d.ctl("send", "--channel", "sms", "--to", "081234567890", "setelah macet")
        wait_for(lambda: [x for x in self.s.sent()
                          if x["text"] == "setelah macet"],
                 timeout=120, what="send after recovery")
        outs = wait_for(lambda: [m for m in d.inbox() if m["direction"] == "out"
                                 and m["status"] in ("sent", "delivered")]
                        if len([m for m in d.inbox() if m["direction"] == "out"
                                and m["status"] in ("sent", "delivered")]) == 2
                        else None, timeout=30, what="both sent")
        self.assertEqual(len(outs), 2)

    def test_sent_messages_on_a_second_hand_sim_stay_out(self):
        d = self.start()
        for n in SUBMITS:
            self.s.pdu(dump_pdu(n))
        self.s.sms("+6281234500009", "halo, ini warga")
        wait_for(lambda: d.read_log().count("holds a sent message")
                 == len(SUBMITS), what="each sent message logged")
        wait_for(lambda: ins(d), what="the resident's SMS")
        # after a modem reboot the drain reads them all again: no new line
        self.s.ctl("fault reboot")
        self.s.sms("+6281234500009", "pesan kedua")
        wait_for(lambda: len(ins(d)) >= 2, timeout=60,
                 what="an SMS after the reboot")
        self.assertEqual([m["body"] for m in ins(d)],
                         ["pesan kedua", "halo, ini warga"])
        self.assertEqual(d.read_log().count("holds a sent message"),
                         len(SUBMITS))
        self.assertEqual(len(self.s.stored()), len(SUBMITS))

    def test_sent_messages_deleted_when_configured(self):
        d = self.start(extra={"modem": {"delete_sent": "yes"}})
        for n in SUBMITS:
            self.s.pdu(dump_pdu(n))
        # (they may wait at the "SMSC" until the modem is ready)
        wait_for(lambda: d.read_log().count("deleting it") == len(SUBMITS),
                 what="each sent message logged")
        self.wait_empty_sim()
        self.assertEqual(ins(d), [])

    def test_sim_full_is_drained(self):
        d = self.start(sim_args=("--capacity", "5"))
        self.s.ctl("fault full")
        for i in range(8):
            self.s.sms(f"+6281777000{i:03d}", f"penuh {i}")
        self.s.ctl("fault clear")
        wait_for(lambda: len(ins(d)) >= 8, timeout=120, what="all after full")
        self.assertEqual(len(ins(d)), 8)


if __name__ == "__main__":
    harness.main()
