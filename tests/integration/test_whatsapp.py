"""Every WhatsApp webhook shape (fixtures built from Meta's documented
payloads) through the real daemon; each asserts what the inbox shows."""
import base64
import glob
import hashlib
import json
import os
import signal
import stat
import threading

import harness
from harness import Case, wait_for, post_webhook, wa_text

DATA = os.path.join(harness.TOP, "tests", "data", "whatsapp")
BAD = {"malformed_garbage.json": 400, "malformed_truncated.json": 400,
       "not_whatsapp.json": 400}


def wamids(payload):
    def items(obj, key):
        v = obj.get(key) if isinstance(obj, dict) else None
        return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []
    out = []
    for e in items(payload, "entry"):
        for c in items(e, "changes"):
            for m in items(c.get("value"), "messages"):
                if isinstance(m.get("id"), str) and isinstance(m.get("type"), str) \
                        and (m.get("from") or m.get("user_id") or m.get("from_user_id")):
                    out.append((m["id"], m["type"]))
    return out


class WhatsApp(Case):
    def setUp(self):
        super().setUp()
        self.g = self.graph()
        self.d = self.daemon(graph_url=self.g.url).start()

    def inbound(self):
        return [m for m in self.d.inbox() if m["direction"] == "in"]

    def test_every_fixture(self):
        expected = {}
        for path in sorted(glob.glob(os.path.join(DATA, "*.json"))):
            name = os.path.basename(path)
            body = open(path, "rb").read()
            st, _ = post_webhook(self.d, body)
            self.assertEqual(st, BAD.get(name, 200), name)
            if name in BAD:
                continue
            for wamid, typ in wamids(json.loads(body)):
                expected[wamid] = (typ, name)
        got = {m["source_id"]: m for m in self.inbound()}
        for wamid, (typ, name) in expected.items():
            self.assertIn(wamid, got, f"{name}: {wamid} not stored")
            m = got[wamid]
            self.assertEqual(m["channel"], "whatsapp")
            self.assertEqual(m["kind"], typ, name)
            if typ not in ("reaction",):
                self.assertTrue(m["body"], f"{name}: empty body in inbox")
        # Spot checks of what staff read.
        by_kind = {}
        for m in self.inbound():
            by_kind.setdefault(m["kind"], []).append(m)
        self.assertIn("Foto KTP saya", [m["body"] for m in by_kind["image"]])
        self.assertTrue(any("," in m["body"] for m in by_kind["location"]))
        self.assertTrue(by_kind.get("unknown_future_type")
                        or any(k not in ("text", "image", "video", "audio",
                                         "document", "sticker", "location",
                                         "contacts", "interactive", "button",
                                         "reaction", "unsupported")
                               for k in by_kind),
                        "the unknown type was not kept")
        # Redelivery of everything stores nothing new.
        n = len(self.inbound())
        for path in sorted(glob.glob(os.path.join(DATA, "*.json"))):
            if os.path.basename(path) not in BAD:
                post_webhook(self.d, open(path, "rb").read())
        self.assertEqual(len(self.inbound()), n)

    def test_sender_without_phone_is_whatsapp_only(self):
        body = open(os.path.join(DATA, "bsuid.json"), "rb").read()
        self.assertEqual(post_webhook(self.d, body)[0], 200)
        m = self.inbound()[0]
        self.assertFalse(m["peer"].startswith("+"), m["peer"])
        conv = json.loads(self.d.ctl("show", str(m["conversation"]),
                                     "--json").stdout)
        self.assertEqual(conv["contact"]["phone"], "")
        self.assertEqual(conv["contact"]["kind"], "wa_user")

    def test_media_downloaded_private_and_checked(self):
        data = b"\xff\xd8\xff\xe0" + os.urandom(5000)
        sha = hashlib.sha256(data).hexdigest()
        harness.http("POST", self.g.url + "/_control/media", json.dumps({
            "id": "MEDIA77", "data_b64": base64.b64encode(data).decode(),
            "mime_type": "image/jpeg"}).encode(),
            {"Content-Type": "application/json"})
        p = harness.wa_text("wamid.IMG77", "6281234567890", "")
        msg = p["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["type"] = "image"
        del msg["text"]
        msg["image"] = {"id": "MEDIA77", "mime_type": "image/jpeg",
                        "sha256": sha, "caption": "KK saya"}
        self.assertEqual(post_webhook(self.d, p)[0], 200)

        def media_file():
            m = self.inbound()[0]
            j = json.loads(m["media"]) if m.get("media") else {}
            return j.get("file")
        path = wait_for(media_file, what="media downloaded")
        self.assertEqual(open(path, "rb").read(), data)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
                         0o700)
        self.assertEqual(self.inbound()[0]["body"], "KK saya")

    def test_download_name_keeps_no_resident_extension(self):
        # "surat.pdf.html" from a resident must not reach the office PC as
        # an .html file: the extension comes from the type, the rest is
        # cleaned, and only JPEG/PNG/WebP are shown inline.
        for n, (mime, name, want) in enumerate([
                ("text/html", "surat.pdf.html", "surat_pdf.bin"),
                ("application/pdf", "KK Budi.html", "KK_Budi.pdf"),
                ("image/svg+xml", "foto.svg", "foto.bin")]):
            data = b"<html><script>alert(1)</script></html>" + bytes([n])
            mid = f"MEDIA6{n}"
            harness.http("POST", self.g.url + "/_control/media", json.dumps({
                "id": mid, "data_b64": base64.b64encode(data).decode(),
                "mime_type": mime}).encode(),
                {"Content-Type": "application/json"})
            p = harness.wa_text(f"wamid.DOC6{n}", "6281234567890", "")
            msg = p["entry"][0]["changes"][0]["value"]["messages"][0]
            msg["type"] = "document"
            del msg["text"]
            msg["document"] = {"id": mid, "mime_type": mime,
                               "sha256": hashlib.sha256(data).hexdigest(),
                               "filename": name}
            self.assertEqual(post_webhook(self.d, p)[0], 200)
            m = wait_for(lambda: [x for x in self.inbound()
                                  if json.loads(x["media"] or "{}")
                                  .get("file")
                                  and x["source_id"] == f"wamid.DOC6{n}"],
                         what="document downloaded")[0]
            st, headers = self.media_headers(m["id"])
            self.assertEqual(st, 200)
            self.assertEqual(headers["Content-Disposition"],
                             f'attachment; filename="{want}"')
            self.assertEqual(headers["Content-Type"],
                             "application/octet-stream")

    def media_headers(self, msg_id):
        import http.client
        import socket

        class Conn(http.client.HTTPConnection):
            def connect(s):
                s.sock = socket.socket(socket.AF_UNIX)
                s.sock.settimeout(10)
                s.sock.connect(self.d.sock)
        c = Conn("localhost")
        c.request("GET", f"/api/v1/messages/{msg_id}/media")
        r = c.getresponse()
        r.read()
        return r.status, r.headers

    def test_stalled_graph_send_is_not_resent(self):
        # The Graph API stops (process stopped): the request went out in
        # full, no answer came. It may have been sent, so it is not sent
        # again by itself: staff see "status tidak pasti"; when the API
        # comes back the resident has one copy, not three.
        self.d.stop()
        d = self.daemon(graph_url=self.g.url,
                        extra={"whatsapp": {"send_timeout": "1500"},
                               "outbox": {"retry_base_ms": "100"}}).start()
        self.g.proc.send_signal(signal.SIGSTOP)
        try:  # a stopped process would not end in tearDown
            d.ctl("send", "--channel", "whatsapp", "--to", "0812-3456-7051",
                  "Surat Anda sudah jadi")
            out = wait_for(lambda: [m for m in d.inbox()
                                    if m["direction"] == "out"
                                    and m["status"] == "failed"],
                           what="the send given up as uncertain")[0]
        finally:
            self.g.proc.send_signal(signal.SIGCONT)
        self.assertTrue(out["error"].startswith("status tidak pasti"),
                        out["error"])
        # another message after it goes out: the queue moves on
        d.ctl("send", "--channel", "whatsapp", "--to", "0812-3456-7052",
              "Pesan berikutnya")
        wait_for(lambda: [m for m in d.inbox() if m["direction"] == "out"
                          and m["status"] == "sent"], what="next send")
        to_first = [r for r in self.g.requests()
                    if r.get("path", "").endswith("/messages")
                    and "6281234567051" in r.get("body", "")]
        self.assertEqual(len(to_first), 1)
        self.assertEqual([m["status"] for m in d.inbox()
                          if m["direction"] == "out"
                          and m["body"] == "Surat Anda sudah jadi"],
                         ["failed"])

    def test_media_with_wrong_hash_keeps_the_message(self):
        data = b"not the announced bytes"
        harness.http("POST", self.g.url + "/_control/media", json.dumps({
            "id": "MEDIA88", "data_b64": base64.b64encode(data).decode(),
            "mime_type": "application/pdf"}).encode(),
            {"Content-Type": "application/json"})
        p = harness.wa_text("wamid.DOC88", "6281234567890", "")
        msg = p["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["type"] = "document"
        del msg["text"]
        msg["document"] = {"id": "MEDIA88", "mime_type": "application/pdf",
                           "sha256": "0" * 64, "filename": "kk.pdf"}
        self.assertEqual(post_webhook(self.d, p)[0], 200)
        m = self.inbound()[0]
        self.assertEqual(m["kind"], "document")
        j = wait_for(lambda: "error" in (self.inbound()[0]["media"] or "")
                     and json.loads(self.inbound()[0]["media"]),
                     what="download given up")
        self.assertNotIn("file", j)
        self.assertIn("sha", j["error"].lower())
        self.assertIn("media MEDIA88", self.d.read_log())

    def test_download_resumes_after_restart(self):
        data = b"%PDF-1.4 surat pengantar"
        p = harness.wa_text("wamid.DOC99", "6281234567890", "")
        msg = p["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["type"] = "document"
        del msg["text"]
        msg["document"] = {"id": "MEDIA99", "mime_type": "application/pdf",
                           "sha256": hashlib.sha256(data).hexdigest(),
                           "filename": "pengantar.pdf"}
        harness.http("POST", self.g.url + "/_control/media", json.dumps({
            "id": "MEDIA99", "data_b64": base64.b64encode(data).decode(),
            "mime_type": "application/pdf"}).encode(),
            {"Content-Type": "application/json"})
        # The first fetch meets a transient Graph error (131016); the
        # daemon is killed while it waits to retry.
        self.g.script(to="media:MEDIA99", error=131016, times=1)
        self.assertEqual(post_webhook(self.d, p)[0], 200)
        wait_for(lambda: "media MEDIA99" in self.d.read_log(),
                 what="first attempt failed")
        self.d.kill()
        self.d.start()
        path = wait_for(lambda: json.loads(self.inbound()[0]["media"] or
                                           "{}").get("file"),
                        what="download after restart")
        self.assertEqual(open(path, "rb").read(), data)

    def test_stop_while_sending_exits_cleanly_and_sends_after(self):
        # Stopped at once (a second SIGTERM; the first alone would wait
        # for the reply) while a reply is with the Graph API: the send is
        # cancelled and queued again, simpuld exits 0, and both replies go
        # out after the restart. (Found by valgrind: the cancelled send
        # started the next queued one on a client already freed.)
        self.g.script(to="6281234567001", delay_ms=4000, times=1)
        for n in ("001", "002"):  # the replies answer these
            post_webhook(self.d, wa_text(f"wamid.STOP{n}", "6281234567" + n,
                                         "mau urus KTP"))

        def asked():
            return [r for r in self.g.requests() if r.get("json")
                    and r["json"].get("to") == "6281234567001"]
        wait_for(asked, what="first reply with the Graph API")
        self.d.signal(signal.SIGTERM)
        wait_for(lambda: "once the message being sent" in self.d.read_log(),
                 what="the first SIGTERM")
        self.d.signal(signal.SIGTERM)
        self.assertEqual(self.d.stop(), 0, self.d.read_log()[-2000:])
        self.d.start()

        def all_sent():
            outs = [m for m in self.d.inbox() if m["direction"] == "out"]
            ok = [m for m in outs if m["status"] in ("sent", "delivered")]
            return outs if len(outs) >= 2 and len(ok) == len(outs) else None
        outs = wait_for(all_sent, timeout=60, what="every reply sent")
        went = {(r["json"]["to"], r["json"]["text"]["body"])
                for r in self.g.requests()
                if r.get("json") and r["json"].get("type") == "text"}
        for m in outs:
            self.assertIn((m["peer"].lstrip("+"), m["body"]), went)


def add_media(g, mid, mime="application/pdf", **kw):
    """Registers media with the fake Graph API: data=bytes, or size=N
    random bytes; returns its sha256 (hex)."""
    body = {"id": mid, "mime_type": mime, **kw}
    if "data" in body:
        body["data_b64"] = base64.b64encode(body.pop("data")).decode()
    st, r = harness.http("POST", g.url + "/_control/media",
                         json.dumps(body).encode(),
                         {"Content-Type": "application/json"})
    assert st == 200, r
    return json.loads(r)["sha256"]


def media_webhook(items, frm="6281234567890"):
    """One webhook with a document message per (wamid, media id, sha)."""
    p = wa_text(items[0][0], frm, "")
    value = p["entry"][0]["changes"][0]["value"]
    template = value["messages"][0]
    value["messages"] = []
    for wamid, mid, sha in items:
        m = dict(template, id=wamid, type="document")
        del m["text"]
        m["document"] = {"id": mid, "mime_type": "application/pdf",
                         "sha256": sha, "filename": mid + ".pdf"}
        value["messages"].append(m)
    return p


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class MediaDownloads(Case):
    """Media downloads stream to a temporary file in the media directory,
    at most two at a time (issue 14)."""

    def setUp(self):
        super().setUp()
        self.g = self.graph()
        self.d = self.daemon(graph_url=self.g.url).start()
        self.media_dir = os.path.join(self.tmp, "media")

    def control(self, method, name, obj=None):
        st, r = harness.http(method, self.g.url + "/_control/" + name,
                             json.dumps(obj).encode() if obj else None,
                             {"Content-Type": "application/json"})
        self.assertEqual(st, 200, r)
        return json.loads(r)

    def stats(self):
        return self.control("GET", "stats")

    def held(self, mid):
        return self.stats()["held"].get(mid, 0)

    def release(self, mid):
        self.control("POST", "release", {"id": mid})

    def files(self):
        try:
            return sorted(os.listdir(self.media_dir))
        except FileNotFoundError:
            return []

    def media_of(self, wamid):
        for m in self.d.inbox():
            if m["source_id"] == wamid and m.get("media"):
                return json.loads(m["media"])
        return {}

    def stored(self, wamid):
        return self.media_of(wamid).get("file")

    def partial(self, size):
        """The one file in the media directory, once it holds size
        bytes: a download on its way to disk."""
        names = self.files()
        if len(names) != 1:
            return None
        path = os.path.join(self.media_dir, names[0])
        return path if os.path.getsize(path) == size else None

    def test_large_media_is_not_held_in_memory(self):
        size = 40 * 1024 * 1024
        sha = add_media(self.g, "BIG1", size=size)
        # The server stops at 90% until released: a download kept in
        # memory is then at least that big in simpuld's RSS.
        hold = size * 9 // 10
        self.g.script(to="bytes:BIG1", hold_at=hold)
        pid = self.d.proc.pid
        base = vm_rss_kb(pid)
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], vm_rss_kb(pid))
                except (OSError, AssertionError):
                    return
                done.wait(0.02)
        t = threading.Thread(target=sample, daemon=True)
        t.start()
        try:
            self.assertEqual(post_webhook(self.d, media_webhook(
                [("wamid.BIG1", "BIG1", sha)]))[0], 200)
            limit_kb = size // 3 // 1024
            wait_for(lambda: self.partial(hold)
                     or vm_rss_kb(pid) - base > limit_kb,
                     timeout=120, what="90% of the file received")
            peak[0] = max(peak[0], vm_rss_kb(pid))
            self.release("BIG1")
            path = wait_for(lambda: self.stored("wamid.BIG1"), timeout=120,
                            what="the large file stored")
        finally:
            done.set()
            t.join()
        growth = peak[0] - base
        self.assertLess(growth, limit_kb,
                        f"simpuld's RSS grew by {growth} kB during a "
                        f"{size // 1024} kB download (from {base} kB)")
        self.assertEqual(os.path.getsize(path), size)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        self.assertEqual(h.hexdigest(), sha)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(self.files(), [os.path.basename(path)])
        self.assertEqual(self.media_of("wamid.BIG1")["size"], size)

    def test_at_most_two_downloads_at_once(self):
        items = []
        for n in range(5):
            mid = f"SLOW{n}"
            sha = add_media(self.g, mid, size=200 * 1024)
            self.g.script(to="bytes:" + mid, hold_at=1000)
            items.append((f"wamid.SLOW{n}", mid, sha))
        self.assertEqual(post_webhook(self.d, media_webhook(items))[0], 200)
        wait_for(lambda: self.stats()["media_inflight"] >= 2, timeout=60,
                 what="two downloads held by the server")
        # One held download goes on at a time; the next one the daemon
        # starts is held in turn, until all five are through.
        for _ in items:
            mid = wait_for(lambda: next(iter(self.stats()["held"]), None),
                           timeout=60, what="a held download")
            self.release(mid)
            wait_for(lambda: self.stored("wamid." + mid), timeout=60,
                     what=f"{mid} stored")
        for wamid, mid, sha in items:
            with open(self.stored(wamid), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha)
        self.assertEqual(self.stats()["media_max_inflight"], 2)
        self.assertEqual(len(self.files()), 5)

    def test_cut_download_leaves_no_partial_file(self):
        size = 2 * 1024 * 1024
        half = size // 2
        sha = add_media(self.g, "CUT1", size=size)
        # First attempt: half the file, then the server waits; simpuld is
        # killed meanwhile.
        self.g.script(to="bytes:CUT1", hold_at=half)
        self.assertEqual(post_webhook(self.d, media_webhook(
            [("wamid.CUT1", "CUT1", sha)]))[0], 200)
        first = wait_for(lambda: self.partial(half), timeout=60,
                         what="half the file in a temporary file")
        self.assertIsNone(self.stored("wamid.CUT1"))
        self.d.kill()
        self.release("CUT1")
        wait_for(lambda: self.held("CUT1") == 0, what="old request ended")
        # After the restart the download is resumed, a stale temporary
        # file is gone, and this time the connection is cut halfway.
        self.g.script(to="bytes:CUT1", hold_at=half, cut_at=half)
        self.d.start()
        wait_for(lambda: self.held("CUT1") == 1, timeout=60,
                 what="the resumed download")
        # partial() wants one file: the stale one must be gone
        wait_for(lambda: self.partial(half), timeout=60,
                 what="half the file again, the only file there")
        log_before = len(self.d.read_log())
        self.release("CUT1")
        wait_for(lambda: "media CUT1 of message" in
                 self.d.read_log()[log_before:], timeout=60,
                 what="the cut download reported")
        self.assertEqual(self.files(), [], "a partial file was left")
        self.assertIsNone(self.stored("wamid.CUT1"))
        # then retried, whole this time
        path = wait_for(lambda: self.stored("wamid.CUT1"), timeout=90,
                        what="the download retried")
        with open(path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha)
        self.assertEqual(self.files(), [os.path.basename(path)])


class WalSyncHeld(Case):
    """A webhook is answered 200 only once its commit is on disk. While
    the disk holds the WAL's sync (tests/support/syncgate.c), the message
    is already stored and simpuld keeps serving (simpulctl reads the
    inbox), but the webhook is not answered; once the sync is let go it is
    answered 200, and the message is stored once."""

    def test_answer_waits_for_the_sync(self):
        gate = os.path.join(self.tmp, "hold-wal-sync")
        g = self.graph()
        d = self.daemon(graph_url=g.url)
        d.env["LD_PRELOAD"] = os.path.join(harness.BUILD, "tests",
                                           "libsyncgate.so")
        d.env["SIMPUL_TEST_SYNC_GATE"] = gate
        # ASan wants its runtime first in the library list (tests/sanitize)
        d.env["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "") +
                                 ":verify_asan_link_order=0").lstrip(":")
        d.start()
        open(gate, "w").close()
        answers = []
        body = wa_text("wamid.held.1", "6281234500001", "halo")
        t = threading.Thread(target=lambda: answers.append(
            post_webhook(d, body)[0]), daemon=True)
        t.start()
        try:
            wait_for(lambda: any(m["source_id"] == "wamid.held.1"
                                 for m in d.inbox()),
                     what="the message stored while its sync is held")
            self.assertEqual(answers, [], "answered before its sync")
        finally:
            os.unlink(gate)
        t.join(60 * harness.TIMEOUT_SCALE)
        self.assertEqual(answers, [200])
        ids = [m["source_id"] for m in d.inbox() if m["direction"] == "in"]
        self.assertEqual(ids.count("wamid.held.1"), 1)


if __name__ == "__main__":
    harness.main()
