#!/usr/bin/env python3
"""The staff inbox API (issue 6): sessions, CSRF, throttling, the
conversation list with its filters, pagination and full-text search,
actions on a conversation and the media route, against the real simpuld
(WhatsApp through signed webhooks and the fake Graph API, SMS through
simpul-modemsim)."""
import base64
import http.cookiejar
import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

PASSWORD = "rahasia-kantor-1"

# Every non-public API route (method, path) and a body for writes.
READS = [
    "/api/v1/messages", "/api/v1/conversations", "/api/v1/conversations/1",
    "/api/v1/status", "/api/v1/me", "/api/v1/users", "/api/v1/changes",
    "/api/v1/sms/count?text=a", "/api/v1/messages/1/media", "/",
    "/api/v1/announcements", "/api/v1/subscriptions",
]
WRITES = [
    ("/api/v1/messages", {"channel": "sms", "to": "081234567890",
                          "text": "x"}),
    ("/api/v1/conversations/1/reply", {"text": "x"}),
    ("/api/v1/conversations/1/status", {"status": "selesai"}),
    ("/api/v1/conversations/1/assign", {"assignee": ""}),
    ("/api/v1/conversations/1/category", {"category": "x"}),
    ("/api/v1/conversations/1/notes", {"text": "x"}),
    ("/api/v1/conversations/1/rt", {"rt": "001/002"}),
    ("/api/v1/conversations/1/read", {}),
    ("/api/v1/users", {"name": "x", "role": "staff", "password": "12345678"}),
    ("/api/v1/messages/1/callback", {}),
    ("/api/v1/announcements", {"text": "x", "audience": "semua"}),
    ("/api/v1/announcements/1/approve", {}),
    ("/api/v1/logout", {}),
]


class Client:
    """A browser-like client: cookie jar, CSRF header on writes."""

    def __init__(self, d):
        self.d = d
        self.jar = http.cookiejar.CookieJar()
        self.op = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            NoRedirect())
        self.csrf = None

    def req(self, method, path, body=None, csrf=True, headers=None):
        h = {"Content-Type": "application/json"}
        if csrf and self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        data = None if body is None else json.dumps(body).encode()
        if method != "GET" and data is None:
            data = b"{}"
        r = urllib.request.Request(self.d.url(path), data=data,
                                   method=method, headers=h)
        try:
            with self.op.open(r, timeout=30) as resp:
                return resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    def json(self, method, path, body=None, expect=200):
        st, b, _ = self.req(method, path, body)
        if st != expect:
            raise AssertionError(f"{method} {path}: {st} {b!r}")
        return json.loads(b)

    def login(self, user="siti", password=PASSWORD):
        st, b, h = self.req("POST", "/api/v1/login",
                            {"user": user, "password": password})
        if st == 200:
            self.csrf = json.loads(b)["csrf"]
        return st, b, h


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def add_user(d, name, role="staff", password=PASSWORD):
    return subprocess.run([H.SIMPULCTL, "-c", d.conf, "user", "add", name,
                           "--role", role], input=password + "\n",
                          capture_output=True, text=True, timeout=30)


class ApiCase(H.Case):
    def setUp(self):
        super().setUp()
        self.g = self.graph()
        self.d = self.daemon(graph_url=self.g.url).start()
        r = add_user(self.d, "siti", "admin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(add_user(self.d, "budi").returncode, 0)
        self.c = Client(self.d)
        self.assertEqual(self.c.login()[0], 200)
        self.n = 0

    def wa(self, frm, text, name="Warga"):
        self.n += 1
        st, _ = H.post_webhook(self.d, H.wa_text(f"wamid.t{self.n}", frm,
                                                 text, name=name))
        self.assertEqual(st, 200)

    def convs(self, **q):
        qs = "&".join(f"{k}={urllib.request.quote(str(v))}"
                      for k, v in q.items())
        return self.c.json("GET", "/api/v1/conversations?" + qs)

    def sql(self, stmt, args=()):
        db = sqlite3.connect(self.d.db, timeout=10)
        db.execute(stmt, args)
        db.commit()
        db.close()


class Auth(ApiCase):
    def test_every_route_needs_a_session_and_writes_need_csrf(self):
        anon = Client(self.d)
        for path in READS:
            st, b, h = anon.req("GET", path)
            if path == "/":
                self.assertEqual(st, 303, path)
                self.assertEqual(h["Location"], "/login")
            else:
                self.assertEqual(st, 401, f"GET {path}: {b!r}")
        for path, body in WRITES:
            st, b, _ = anon.req("POST", path, body)
            self.assertEqual(st, 401, f"POST {path}: {b!r}")
        self.wa("6281234567890", "halo")
        for path, body in WRITES:
            st, b, _ = self.c.req("POST", path, body, csrf=False)
            self.assertEqual(st, 403, f"POST {path} without CSRF: {b!r}")
            st, b, _ = self.c.req("POST", path, body, csrf=False,
                                  headers={"X-CSRF-Token": "0" * 64})
            self.assertEqual(st, 403, f"POST {path} wrong CSRF: {b!r}")
        # Nothing of those writes happened.
        conv = self.c.json("GET", "/api/v1/conversations/1")
        self.assertEqual(conv["status"], "baru")
        self.assertEqual(conv["notes"], [])
        self.assertEqual([m for m in conv["messages"]
                          if m["direction"] == "out"
                          and m["author"] != "auto"], [])

    def test_public_routes_only_login_and_webhook(self):
        anon = Client(self.d)
        st, b, h = anon.req("GET", "/login")
        self.assertEqual(st, 200)
        self.assertIn(b"Kata sandi", b)
        self.assertIn("script-src 'self'", h["Content-Security-Policy"])
        self.assertEqual(anon.req("GET", "/static/login.js")[0], 200)
        self.assertEqual(anon.req("GET", "/static/../simpul.ini")[0], 404)
        self.assertEqual(anon.req("GET", "/static/index.html")[0], 404)

    def test_login_cookie_logout(self):
        c = Client(self.d)
        st, b, h = c.login()
        self.assertEqual(st, 200)
        cookie = h["Set-Cookie"]
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="):
            self.assertIn(attr, cookie)
        token = cookie.split(";")[0].split("=", 1)[1]
        self.assertEqual(len(token), 64)  # 256 bits in hex
        db = sqlite3.connect(self.d.db)
        stored = [r[0] for r in db.execute("SELECT token_hash FROM sessions")]
        db.close()
        self.assertNotIn(token, stored)  # only a hash is kept
        me = c.json("GET", "/api/v1/me")
        self.assertEqual((me["user"], me["role"]), ("siti", "admin"))
        # the cookie replayed by another client works while logged in ...
        old = {"Cookie": cookie.split(";")[0]}
        replay = Client(self.d)
        self.assertEqual(replay.req("GET", "/api/v1/me", headers=old)[0], 200)
        self.assertEqual(c.req("POST", "/api/v1/logout")[0], 200)
        self.assertEqual(c.req("GET", "/api/v1/me")[0], 401)
        # ... and is dead after the logout, for reads and for writes with
        # the session's CSRF token: the server forgot the session, not
        # only the browser its cookie
        self.assertEqual(replay.req("GET", "/api/v1/me", headers=old)[0], 401)
        st, _, _ = replay.req("POST", "/api/v1/messages",
                              {"to": "081234567890", "text": "x"},
                              headers=dict(old, **{"X-CSRF-Token": c.csrf}))
        self.assertEqual(st, 401)
        # another session of the same user is not touched
        self.assertEqual(self.c.req("GET", "/api/v1/me")[0], 200)

    def test_wrong_password_and_form_posts_refused(self):
        c = Client(self.d)
        self.assertEqual(c.login(password="salah")[0], 401)
        self.assertEqual(c.login(user="tidakada")[0], 401)
        st, _, _ = c.req("POST", "/api/v1/login", None, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(st, 415)

    def test_session_expires(self):
        self.sql("UPDATE sessions SET expires_at = 1")
        self.assertEqual(self.c.req("GET", "/api/v1/conversations")[0], 401)

    def test_throttling_per_user_and_per_address(self):
        self.restart()
        c = Client(self.d)
        for _ in range(4):
            self.assertEqual(c.login("budi", "salah")[0], 401)
        self.set_clock(-60)  # no race with the 1 s delay just set
        st, b, h = c.login("budi")  # right password, but slowed down
        self.assertEqual(st, 429)
        self.assertIn("Terlalu banyak", json.loads(b)["error"])
        self.assertLessEqual(int(h["Retry-After"]), 90)  # not a lock
        self.set_clock(0)
        self.assertEqual(c.login("siti")[0], 200)  # others still can
        for i in range(20):
            c.login(f"tamu{i}", "salah")
        self.set_clock(-60)
        self.assertEqual(c.login("siti")[0], 429)  # the address is slowed

    def set_clock(self, offset_s):
        with open(self.clock, "w") as f:
            f.write(f"{offset_s}\n")

    def restart(self, **http_keys):
        """simpuld again on the same database, with [http] keys and a
        fake clock (an offset in seconds in a file)."""
        self.clock = os.path.join(self.tmp, "clock")
        self.set_clock(0)
        os.environ["SIMPUL_FAKE_CLOCK_FILE"] = self.clock
        self.addCleanup(os.environ.pop, "SIMPUL_FAKE_CLOCK_FILE", None)
        self.d.stop()
        self.d = self.daemon(graph_url=self.g.url,
                             extra={"http": http_keys}).start()

    def test_failures_never_lock_out_the_real_user(self):
        # Twelve addresses (behind the trusted proxy) try budi's account:
        # the real user, from another address, waits 30 s at most.
        self.restart(trusted_proxy="127.0.0.1")
        c = Client(self.d)
        for i in range(12):
            st, _, _ = c.req("POST", "/api/v1/login",
                             {"user": "budi", "password": "salah"},
                             headers={"X-Forwarded-For": f"10.0.0.{i + 10}"})
            self.assertIn(st, (401, 429))
        st, _, h = c.req("POST", "/api/v1/login",
                         {"user": "budi", "password": PASSWORD},
                         headers={"X-Forwarded-For": "10.0.0.5"})
        if st == 429:
            self.assertLessEqual(int(h["Retry-After"]), 30)
        self.set_clock(31)
        st, _, _ = c.req("POST", "/api/v1/login",
                         {"user": "budi", "password": PASSWORD},
                         headers={"X-Forwarded-For": "10.0.0.5"})
        self.assertEqual(st, 200)

    def test_forwarded_headers_only_from_the_trusted_proxy(self):
        # Not trusted (the default): X-Forwarded-For does not make 25
        # clients of one, and X-Forwarded-Proto does not make HTTPS.
        self.restart()
        c = Client(self.d)
        for i in range(25):
            c.req("POST", "/api/v1/login", {"user": f"tamu{i}",
                                            "password": "salah"},
                  headers={"X-Forwarded-For": f"10.1.0.{i}"})
        self.set_clock(-60)
        st, _, h = c.req("POST", "/api/v1/login",
                         {"user": "siti", "password": PASSWORD},
                         headers={"X-Forwarded-For": "10.1.1.1",
                                  "X-Forwarded-Proto": "https"})
        self.assertEqual(st, 429)
        self.restart(trusted_proxy="127.0.0.1")
        c = Client(self.d)
        st, _, h = c.req("POST", "/api/v1/login",
                         {"user": "siti", "password": PASSWORD})
        self.assertNotIn("Secure", h["Set-Cookie"])  # plain HTTP
        st, _, h = c.req("POST", "/api/v1/login",
                         {"user": "siti", "password": PASSWORD},
                         headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(st, 200)
        self.assertIn("; Secure", h["Set-Cookie"])
        self.restart(https="yes")
        c = Client(self.d)
        st, _, h = c.req("POST", "/api/v1/login",
                         {"user": "siti", "password": PASSWORD})
        self.assertIn("; Secure", h["Set-Cookie"])

    def test_password_reset_disable_delete_end_sessions(self):
        budi = Client(self.d)
        self.assertEqual(budi.login("budi")[0], 200)
        self.assertEqual(budi.req("GET", "/api/v1/me")[0], 200)
        r = subprocess.run([H.SIMPULCTL, "-c", self.d.conf, "user", "add",
                            "budi", "--replace"],
                           input="sandi-baru-123\n", capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(budi.req("GET", "/api/v1/me")[0], 401)
        self.assertEqual(budi.login("budi", "sandi-baru-123")[0], 200)
        self.d.ctl("user", "disable", "budi")
        self.assertEqual(budi.req("GET", "/api/v1/me")[0], 401)
        self.assertEqual(budi.login("budi", "sandi-baru-123")[0], 401)
        users = {u["name"]: u for u in
                 json.loads(self.d.ctl("user", "list").stdout)}
        self.assertTrue(users["budi"]["disabled"])
        self.assertFalse(users["siti"]["disabled"])
        self.d.ctl("user", "delete", "budi")
        users = json.loads(self.d.ctl("user", "list").stdout)
        self.assertEqual([u["name"] for u in users], ["siti"])
        self.assertNotEqual(self.d.ctl("user", "delete", "budi",
                                       check=False).returncode, 0)

    def test_openapi_lists_every_route(self):
        # doc/openapi.yaml against the router itself (GET /api/v1/routes on
        # the socket): every route, with its method, is documented.
        st, body = H.unix_request(self.d.sock, "GET", "/api/v1/routes")
        self.assertEqual(st, 200)
        documented, path = set(), None
        with open(os.path.join(H.TOP, "doc", "openapi.yaml")) as f:
            for line in f:
                m = re.match(r"^  (/\S*):\s*$", line)
                if m:
                    path = m.group(1)
                    continue
                m = re.match(r"^    (get|post|put|patch|delete):", line)
                if m and path:
                    documented.add((m.group(1).upper(), path))
        missing = []
        for line in body.decode().splitlines():
            method, route = line.split()[:2]
            if route.endswith("*"):
                ok = any(mm == method and p.startswith(route[:-1])
                         for mm, p in documented)
            else:
                ok = (method, route) in documented
            if not ok:
                missing.append(f"{method} {route}")
        self.assertEqual(missing, [], "routes not in doc/openapi.yaml")

    def test_announcement_only_by_admin(self):
        self.wa("6281234567890", "DAFTAR")
        budi = Client(self.d)
        self.assertEqual(budi.login("budi")[0], 200)
        st, _, _ = budi.req("POST", "/api/v1/announcements",
                            {"text": "Rapat RW", "audience": "semua"})
        self.assertEqual(st, 403)
        self.assertEqual(self.c.json("GET", "/api/v1/announcements"), [])
        p = self.c.json("POST", "/api/v1/announcements",
                        {"text": "Rapat RW", "audience": "semua",
                         "preview": True})
        self.assertEqual((p["recipients"], p["whatsapp"]), (1, 1))
        self.assertEqual(self.c.json("GET", "/api/v1/announcements"), [])
        st, _, _ = self.c.req("POST", "/api/v1/announcements",
                              {"text": "Rapat RW", "audience": "arisan"})
        self.assertEqual(st, 400)
        a = self.c.json("POST", "/api/v1/announcements",
                        {"text": "Rapat RW", "audience": "semua"},
                        expect=201)
        self.assertEqual(a["recipients"], 1)
        lst = self.c.json("GET", "/api/v1/announcements")
        self.assertEqual([(x["id"], x["created_by"], x["recipients"])
                          for x in lst], [(a["id"], "siti", 1)])

    def test_large_announcement_needs_a_second_admin(self):
        self.d.stop()
        self.d.sections["announce"] = {"approval_above": "1"}
        self.d.write_config(self.d.sections)
        self.d.start()
        self.wa("6281234567890", "DAFTAR")
        self.wa("6281234567891", "DAFTAR")
        a = self.c.json("POST", "/api/v1/announcements",
                        {"text": "Rapat RW", "audience": "semua"},
                        expect=202)
        self.assertEqual((a["state"], a["recipients"]),
                         ("menunggu_persetujuan", 2))
        self.assertEqual([m for m in self.d.inbox()
                          if m["body"] == "Rapat RW"], [])
        path = f"/api/v1/announcements/{a['id']}/approve"
        st, b, _ = self.c.req("POST", path, {})
        self.assertEqual(st, 403, b)  # not the same admin
        self.assertEqual(add_user(self.d, "rina", "admin").returncode, 0)
        rina = Client(self.d)
        self.assertEqual(rina.login("rina")[0], 200)
        self.assertEqual(rina.json("POST", path, {}, expect=201)["state"],
                         "dikirim")
        st, _, _ = rina.req("POST", path, {})
        self.assertEqual(st, 409)  # once
        rows = [m for m in self.d.inbox() if m["body"] == "Rapat RW"]
        self.assertEqual(sorted(m["peer"] for m in rows),
                         ["6281234567890", "6281234567891"])  # WhatsApp
        lst = self.c.json("GET", "/api/v1/announcements")
        self.assertEqual((lst[0]["state"], lst[0]["approved_by"],
                          lst[0]["recipients"]), ("dikirim", "rina", 2))

    def test_user_add_only_admin_or_local(self):
        r = add_user(self.d, "siti")
        self.assertNotEqual(r.returncode, 0)  # exists
        self.assertIn("exists", r.stderr)
        budi = Client(self.d)
        self.assertEqual(budi.login("budi")[0], 200)
        st, _, _ = budi.req("POST", "/api/v1/users", {
            "name": "eve", "role": "admin", "password": "12345678"})
        self.assertEqual(st, 403)
        self.c.json("POST", "/api/v1/users", {
            "name": "ani", "role": "staff", "password": "sandi-ani-1"},
            expect=201)
        self.assertEqual(Client(self.d).login("ani", "sandi-ani-1")[0], 200)
        names = [u["name"] for u in self.c.json("GET", "/api/v1/users")]
        self.assertEqual(names, ["ani", "budi", "siti"])
        db = sqlite3.connect(self.d.db)
        h = db.execute("SELECT hash FROM users WHERE name='ani'").fetchone()
        db.close()
        self.assertTrue(h[0].startswith("$argon2id$"))


class ListAndSearch(ApiCase):
    def test_pagination(self):
        for i in range(7):
            self.wa(f"62812000000{i:02d}", f"pesan nomor {i}")
        seen = []
        for off in (0, 3, 6):
            j = self.convs(limit=3, offset=off)
            self.assertEqual(j["total"], 7)
            seen += [c["contact"]["phone"] for c in j["items"]]
        self.assertEqual(len(seen), 7)
        self.assertEqual(len(set(seen)), 7)
        # Newest activity first.
        self.assertEqual(seen[0], "+6281200000006")
        # The same pages by the keyset cursor ("next"), as the UI asks.
        keyset, j = [], self.convs(limit=3)
        while True:
            self.assertEqual((j["total"], j["more"]), (7, False))
            keyset += [c["contact"]["phone"] for c in j["items"]]
            if not j["next"]:
                break
            j = self.convs(limit=3, before=j["next"])
        self.assertEqual(keyset, seen)
        self.assertEqual(self.c.req("GET", "/api/v1/conversations"
                                    "?before=x.1")[0], 400)

    def test_filters(self):
        self.wa("6281300000001", "lampu jalan mati", name="Andi")
        self.wa("6281300000002", "sampah menumpuk", name="Bina")
        self.wa("6281300000003", "tanya jam buka", name="Cici")
        ids = {c["contact"]["name"]: c["id"]
               for c in self.convs()["items"]}
        a, b, c = ids["Andi"], ids["Bina"], ids["Cici"]
        self.c.json("POST", f"/api/v1/conversations/{a}/status",
                    {"status": "diproses"})
        self.c.json("POST", f"/api/v1/conversations/{b}/status",
                    {"status": "menunggu_rt"})
        self.c.json("POST", f"/api/v1/conversations/{c}/status",
                    {"status": "selesai"})
        self.c.json("POST", f"/api/v1/conversations/{a}/assign",
                    {"assignee": "budi"})
        self.c.json("POST", f"/api/v1/conversations/{b}/category",
                    {"category": "pengaduan/sampah"})

        def names(**q):
            return sorted(x["contact"]["name"]
                          for x in self.convs(**q)["items"])
        self.assertEqual(names(status="diproses"), ["Andi"])
        self.assertEqual(names(status="menunggu_rt"), ["Bina"])
        self.assertEqual(names(status="open"), ["Andi", "Bina"])
        self.assertEqual(names(assignee="budi"), ["Andi"])
        self.assertEqual(names(assignee="none"), ["Bina", "Cici"])
        self.assertEqual(names(category="pengaduan/sampah"), ["Bina"])
        self.assertEqual(names(channel="whatsapp"), ["Andi", "Bina", "Cici"])
        self.assertEqual(names(channel="sms"), [])
        # Overdue: a due date in the past on an open ticket, not on a
        # closed one.
        past = int(H.now() * 1000) - 86400000
        self.sql("UPDATE conversations SET due_at = ?", (past,))
        self.assertEqual(names(overdue=1), ["Andi", "Bina"])
        item = [x for x in self.convs()["items"] if x["id"] == a][0]
        self.assertTrue(item["overdue"])
        self.assertEqual(self.c.req("GET", "/api/v1/conversations"
                                    "?status=bogus")[0], 400)

    def test_full_text_search(self):
        self.wa("6281400000001", "Lampu jalan di gang mawar mati", name="A")
        self.wa("6281400000002", "Mohon info posyandu bulan ini", name="B")
        self.wa("6281400000003", "Kucingku hilang di gang melati", name="C")

        def names(q):
            return sorted(x["contact"]["name"]
                          for x in self.convs(q=q)["items"])
        self.assertEqual(names("posyandu"), ["B"])
        self.assertEqual(names("lampu mawar"), ["A"])
        self.assertEqual(names("kucing"), ["C"])  # prefix of Kucingku
        self.assertEqual(names("tidakadakatanya"), [])
        # Query syntax never breaks the search.
        self.assertEqual(names('"lampu" OR (NEAR'), [])
        self.assertEqual(self.convs(q='"*-:')["total"], 0)

    def test_changes_revision_moves(self):
        r0 = self.c.json("GET", "/api/v1/changes")["rev"]
        self.wa("6281500000001", "halo")
        r1 = self.c.json("GET", "/api/v1/changes")["rev"]
        self.assertGreater(r1, r0)
        self.c.json("POST", "/api/v1/conversations/1/status",
                    {"status": "diproses"})
        self.assertGreater(self.c.json("GET", "/api/v1/changes")["rev"], r1)


class Conversation(ApiCase):
    def test_actions_show_in_the_conversation(self):
        self.wa("6281600000001", "mau urus KK", name="Dewi")
        cid = self.convs()["items"][0]["id"]
        self.assertEqual(self.convs()["items"][0]["unread"], 1)
        self.c.json("POST", f"/api/v1/conversations/{cid}/read")
        self.assertEqual(self.convs()["items"][0]["unread"], 0)
        self.c.json("POST", f"/api/v1/conversations/{cid}/assign",
                    {"assignee": "budi"})
        self.c.json("POST", f"/api/v1/conversations/{cid}/rt",
                    {"rt": "003/005"})
        self.c.json("POST", f"/api/v1/conversations/{cid}/notes",
                    {"text": "<b>cek</b> berkas KK lama"}, expect=201)
        self.c.json("POST", f"/api/v1/conversations/{cid}/status",
                    {"status": "selesai"})
        conv = self.c.json("GET", f"/api/v1/conversations/{cid}")
        self.assertEqual(conv["assignee"], "budi")
        self.assertEqual(conv["contact"]["rt"], "003/005")
        self.assertEqual(conv["status"], "selesai")
        # (the RT module may have added its own note before ours)
        mine = [n for n in conv["notes"] if n["author"] == "siti"]
        self.assertEqual([n["body"] for n in mine],
                         ["<b>cek</b> berkas KK lama"])
        # Bad values are refused.
        for action, body in (("status", {"status": "tutup"}),
                             ("assign", {"assignee": "orang-asing"}),
                             ("notes", {"text": ""}),
                             ("nothing", {})):
            st, _, _ = self.c.req(
                "POST", f"/api/v1/conversations/{cid}/{action}", body)
            self.assertIn(st, (400, 404), action)
        self.assertEqual(self.c.req("POST", "/api/v1/conversations/999/"
                                    "status", {"status": "baru"})[0], 404)
        db = sqlite3.connect(self.d.db)
        acts = [r[0] for r in db.execute(
            "SELECT action FROM audit WHERE user = 'siti' ORDER BY id")]
        db.close()
        self.assertEqual(acts, ["login", "assignee", "rt", "status"])

    def test_reply_goes_out_on_whatsapp_and_keeps_author(self):
        self.wa("6281700000001", "halo kantor")
        self.c.json("POST", "/api/v1/conversations/1/reply",
                    {"text": "Baik, kami bantu."}, expect=201)
        H.wait_for(lambda: any(
            r["json"] and "Baik, kami bantu." in json.dumps(r["json"])
            for r in self.g.requests()), what="graph send")
        conv = self.c.json("GET", "/api/v1/conversations/1")
        out = [m for m in conv["messages"] if m["author"] == "siti"]
        self.assertEqual(out[0]["channel"], "whatsapp")

    def test_sms_count(self):
        j = self.c.json("GET", "/api/v1/sms/count?text=" +
                        urllib.request.quote("a" * 161))
        self.assertEqual((j["segments"], j["ucs2"]), (2, False))
        j = self.c.json("GET", "/api/v1/sms/count?text=" +
                        urllib.request.quote("Terima kasih 🙏"))
        self.assertTrue(j["ucs2"])
        self.assertEqual(j["first_non_gsm"], "🙏")

    def test_media_only_for_staff_and_by_message_id(self):
        data = b"\xff\xd8\xff\xe0" + b"JPEGDATA" * 100
        self.g_media("777", data)
        payload = H.wa_text("wamid.img1", "6281800000001", "")
        msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        msg["type"] = "image"
        del msg["text"]
        msg["image"] = {"id": "777", "mime_type": "image/jpeg",
                        "sha256": __import__("hashlib").sha256(
                            data).hexdigest()}
        self.assertEqual(H.post_webhook(self.d, payload)[0], 200)
        mid = [m["id"] for m in self.d.inbox() if m["direction"] == "in"][0]

        def ready():
            m = self.c.json("GET", "/api/v1/conversations/1")["messages"][0]
            return m["media"] and "file" in json.loads(m["media"])
        H.wait_for(ready, what="media download")
        st, body, h = self.c.req("GET", f"/api/v1/messages/{mid}/media")
        self.assertEqual(st, 200)
        self.assertEqual(body, data)
        self.assertEqual(h["Content-Type"], "image/jpeg")
        self.assertIn("no-store", h["Cache-Control"])
        self.assertEqual(Client(self.d).req(
            "GET", f"/api/v1/messages/{mid}/media")[0], 401)
        # A media path pointing outside media_dir is never served.
        self.sql("UPDATE messages SET media = ? WHERE id = ?",
                 (json.dumps({"file": self.d.conf,
                              "mime_type": "text/plain"}), mid))
        self.assertEqual(self.c.req(
            "GET", f"/api/v1/messages/{mid}/media")[0], 404)
        self.assertEqual(self.c.req(
            "GET", "/api/v1/messages/../../simpul.ini/media")[0], 404)

    def g_media(self, mid, data):
        st, _ = H.http("POST", self.g.url + "/_control/media", json.dumps({
            "id": mid, "data_b64": base64.b64encode(data).decode(),
            "mime_type": "image/jpeg"}).encode(),
            {"Content-Type": "application/json"})
        self.assertEqual(st, 200)


class BothChannels(H.Case):
    """SMS through the modem simulator and WhatsApp from the same person
    are one conversation; a reply goes out on the channel used last."""

    def test_sms_and_whatsapp_one_conversation(self):
        if not os.path.exists(H.MODEMSIM):
            self.skipTest("simpul-modemsim not built")
        g = self.graph()
        sim = self.sim()
        d = self.daemon(graph_url=g.url, modem_device=sim.link).start()
        self.assertEqual(add_user(d, "siti").returncode, 0)
        c = Client(d)
        self.assertEqual(c.login()[0], 200)
        H.post_webhook(d, H.wa_text("wamid.b1", "6281900000001",
                                    "Halo dari WA", name="Rina"))
        sim.sms("+6281900000001", "Halo dari SMS")
        H.wait_for(lambda: len(d.inbox()) >= 2 and any(
            m["channel"] == "sms" and m["direction"] == "in"
            for m in d.inbox()), timeout=60, what="SMS stored")
        items = c.json("GET", "/api/v1/conversations")["items"]
        self.assertEqual(len(items), 1)
        self.assertEqual(sorted(items[0]["channels"]), ["sms", "whatsapp"])
        self.assertEqual(items[0]["last_channel"], "sms")
        cid = items[0]["id"]
        c.json("POST", f"/api/v1/conversations/{cid}/reply",
               {"text": "Balasan petugas lewat SMS"}, expect=201)
        H.wait_for(lambda: any("Balasan petugas lewat SMS" in json.dumps(s)
                               for s in sim.sent()), timeout=60,
                   what="SMS sent through the simulator")


if __name__ == "__main__":
    H.main()
