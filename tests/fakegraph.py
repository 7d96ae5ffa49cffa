#!/usr/bin/env python3
"""A fake WhatsApp Cloud API (Graph API) for tests.

Usage: python3 tests/fakegraph.py --port 0 --token TOKEN --phone-id ID

Prints its base URL (http://127.0.0.1:PORT) as the first line of stdout,
then serves until killed. Use that URL as [whatsapp] graph_url; an optional
version segment (/v21.0/...) is accepted and ignored.

Graph API, checked the way Meta checks it:
  POST /{phone-id}/messages   bearer token; JSON body with
                              messaging_product "whatsapp", to (digits or a
                              BSUID "CC.xxx"), a known type, and for text a
                              text.body of 1..4096 characters.
                              -> {"messaging_product","contacts","messages"}
  GET  /{media-id}            bearer -> {url, mime_type, sha256, file_size,
                              id, messaging_product}
  GET  /_media/{media-id}     bearer -> the bytes (see "bytes:<id>" below)
Errors use Graph's shape: {"error": {"message", "type", "code",
"error_subcode", "error_data": {"messaging_product", "details"},
"fbtrace_id"}}; 190 for a bad token (HTTP 401), 100 for a bad parameter
(HTTP 400).

Control (no token):
  POST /_control/script    {"to": "628...", "error": 131047, "times": 1,
                            "http_status": 400, "action": "drop",
                            "delay_ms": 0}
                           to may be "*" (any recipient) or
                           "media:<id>" (the media metadata request);
                           action "drop" breaks the connection halfway
                           through the answer.
                           to "bytes:<id>" (only that exact key) shapes
                           the media download instead: {"hold_at": N}
                           sends the headers and N bytes of the body, then
                           waits for a release; {"cut_at": N} closes the
                           connection after N bytes of the body (after the
                           hold, if both are given).
  POST /_control/media     {"id": "123", "data_b64": "...", "mime_type":
                            "image/jpeg", "sha256": optional override,
                            "file_size": optional override}; "size": N
                           instead of data_b64 makes N random bytes.
                           -> {"ok", "sha256", "size"} of the bytes
  POST /_control/release   {"id": "123"}: one held download of that media
                           goes on
  GET  /_control/stats     {"media_inflight": downloads begun and not yet
                           sending their last bytes, "media_max_inflight",
                           "held": {id: downloads waiting for a release}}
  GET  /_control/requests  every Graph API request so far, in order:
                           [{method, path, authorization, json, body}]
  POST /_control/reset     forget requests, scripts and media
"""
import argparse
import base64
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KNOWN_TYPES = {"text", "image", "audio", "video", "document", "sticker",
               "location", "contacts", "interactive", "template", "reaction"}

# What Meta answers for the codes tests script: (HTTP status, message,
# details).
ERRORS = {
    190: (401, "Error validating access token: Session has expired",
          "The access token has expired or is invalid."),
    100: (400, "(#100) Invalid parameter", "Invalid parameter"),
    131047: (400, "(#131047) Re-engagement message",
             "Message failed to send because more than 24 hours have "
             "passed since the customer last replied to this number."),
    131026: (400, "(#131026) Message Undeliverable",
             "Message could not be delivered to the recipient."),
    131056: (400, "(#131056) (Business Account, Consumer Account) pair "
             "rate limit hit", "Too many messages sent from this phone "
             "number to the same phone number in a short period of time."),
    130429: (400, "(#130429) Rate limit hit",
             "Cloud API message throughput has been reached."),
    80007: (400, "(#80007) Rate limit issues",
            "The WhatsApp Business Account has reached its rate limit."),
    131016: (503, "(#131016) Service unavailable",
             "A service is temporarily unavailable."),
    131000: (500, "(#131000) Something went wrong",
             "Message failed to send due to an unknown error."),
    131009: (400, "(#131009) Parameter value is not valid",
             "One or more parameter values are invalid."),
}

VERSION = re.compile(r"^v\d+(\.\d+)?$")
BSUID = re.compile(r"^[A-Z]{2}\.([A-Z]{3}\.)?[A-Za-z0-9]{1,128}$")


class State:
    def __init__(self, token, phone_id):
        self.token = token
        self.phone_id = phone_id
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.requests = []
        self.scripts = []
        self.media = {}
        self.counter = 0
        self.base = ""
        self.clear_downloads()

    def clear_downloads(self):
        self.inflight = 0
        self.max_inflight = 0
        self.held = {}
        self.released = {}

    def take_script(self, key, wildcard=True):
        with self.lock:
            for s in self.scripts:
                if (s["to"] == key or (wildcard and s["to"] == "*")) \
                        and s["times"] > 0:
                    s["times"] -= 1
                    return dict(s)
        return None

    def hold(self, mid, timeout=300):
        """Waits until a test releases one held download of mid."""
        with self.cond:
            self.held[mid] = self.held.get(mid, 0) + 1
            self.cond.wait_for(lambda: self.released.get(mid, 0) > 0,
                               timeout)
            if self.released.get(mid, 0) > 0:
                self.released[mid] -= 1
            self.held[mid] -= 1

    def next_wamid(self):
        with self.lock:
            self.counter += 1
            n = self.counter
        raw = b"\x15\x02\x00\x11\x18\x12" + ("FAKE%016d" % n).encode()
        return "wamid." + base64.b64encode(raw).decode()


def graph_error(code, message=None, details=None, subcode=None):
    status, msg, det = ERRORS.get(code, (400, "(#%d) Error" % code,
                                         "Scripted error"))
    body = {"error": {
        "message": message or msg,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp",
                       "details": details or det},
        "fbtrace_id": "AFakeTraceId0000",
    }}
    if subcode is not None:
        body["error"]["error_subcode"] = subcode
    return status, body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeGraph/1.0"

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_bytes(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def parts(self):
        p = [x for x in self.path.split("?", 1)[0].split("/") if x]
        if p and VERSION.match(p[0]):
            p = p[1:]
        return p

    def record(self, body):
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self.st.lock:
            self.st.requests.append({
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "json": parsed,
                "body": body.decode("utf-8", "replace"),
            })

    def token_ok(self):
        return self.headers.get("Authorization") == "Bearer " + self.st.token

    def scripted(self, key):
        """Applies a scripted fault; True if the request was answered."""
        s = self.st.take_script(key)
        if not s:
            return False
        if s.get("delay_ms"):
            time.sleep(s["delay_ms"] / 1000.0)
        if s.get("action") == "drop":
            # Half an answer, then the connection breaks: a client cannot
            # tell whether the message went out. (Closing before any byte
            # would let libcurl silently resend on a fresh connection.)
            self.close_connection = True
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: "
                                 b"application/json\r\nContent-Length: "
                                 b"200\r\n\r\n{\"messaging_")
                self.wfile.flush()
                self.connection.shutdown(2)
            except OSError:
                pass
            return True
        if s.get("error") is None:
            return False
        status, body = graph_error(int(s["error"]), s.get("message"),
                                   s.get("details"), s.get("subcode"))
        self.send_json(int(s.get("http_status") or status), body)
        return True

    # ---- control ----

    def control(self, name, body):
        try:
            obj = json.loads(body) if body else {}
        except ValueError:
            return self.send_json(400, {"error": "bad JSON"})
        if name == "requests" and self.command == "GET":
            with self.st.lock:
                return self.send_json(200, list(self.st.requests))
        if name == "script" and self.command == "POST":
            obj.setdefault("times", 1)
            if "to" not in obj:
                return self.send_json(400, {"error": "'to' is required"})
            with self.st.lock:
                self.st.scripts.append(obj)
            return self.send_json(200, {"ok": True})
        if name == "media" and self.command == "POST":
            data = (os.urandom(int(obj["size"])) if "size" in obj
                    else base64.b64decode(obj.get("data_b64", "")))
            mid = str(obj["id"])
            with self.st.lock:
                self.st.media[mid] = {
                    "data": data,
                    "mime_type": obj.get("mime_type",
                                         "application/octet-stream"),
                    "sha256": obj.get("sha256",
                                      hashlib.sha256(data).hexdigest()),
                    "file_size": obj.get("file_size", len(data)),
                }
            return self.send_json(200, {
                "ok": True, "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data)})
        if name == "release" and self.command == "POST":
            mid = str(obj.get("id"))
            with self.st.cond:
                self.st.released[mid] = self.st.released.get(mid, 0) + 1
                self.st.cond.notify_all()
            return self.send_json(200, {"ok": True})
        if name == "stats" and self.command == "GET":
            with self.st.lock:
                return self.send_json(200, {
                    "media_inflight": self.st.inflight,
                    "media_max_inflight": self.st.max_inflight,
                    "held": {k: v for k, v in self.st.held.items() if v}})
        if name == "reset" and self.command == "POST":
            with self.st.cond:
                self.st.requests.clear()
                self.st.scripts.clear()
                self.st.media.clear()
                self.st.clear_downloads()
                self.st.cond.notify_all()
            return self.send_json(200, {"ok": True})
        return self.send_json(404, {"error": "unknown control " + name})

    # ---- Graph API ----

    def messages(self, phone_id, body):
        self.record(body)
        if not self.token_ok():
            return self.send_json(*graph_error(190))
        if phone_id != self.st.phone_id:
            return self.send_json(*graph_error(
                100, "Unsupported post request. Object with ID '%s' does "
                "not exist" % phone_id, "Unknown phone number id", 33))
        try:
            req = json.loads(body)
        except ValueError:
            return self.send_json(*graph_error(
                100, "(#100) Request body is not valid JSON"))
        if not isinstance(req, dict):
            return self.send_json(*graph_error(100, "(#100) Invalid body"))
        err = check_message(req)
        if err:
            return self.send_json(*graph_error(100, "(#100) " + err, err))
        to = req["to"]
        if self.scripted(to):
            return
        return self.send_json(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": self.st.next_wamid()}],
        })

    def media_meta(self, mid):
        self.record(b"")
        if not self.token_ok():
            return self.send_json(*graph_error(190))
        if self.scripted("media:" + mid):
            return
        with self.st.lock:
            m = self.st.media.get(mid)
        if not m:
            return self.send_json(*graph_error(
                100, "Unsupported get request. Object with ID '%s' does "
                "not exist" % mid, "Unknown media id", 33))
        return self.send_json(200, {
            "messaging_product": "whatsapp",
            "url": "%s/_media/%s" % (self.st.base, mid),
            "mime_type": m["mime_type"],
            "sha256": m["sha256"],
            "file_size": m["file_size"],
            "id": mid,
        })

    def media_bytes(self, mid):
        self.record(b"")
        if not self.token_ok():
            return self.send_json(*graph_error(190))
        with self.st.lock:
            m = self.st.media.get(mid)
        if not m:
            return self.send_json(404, {"error": "no such media"})
        s = self.st.take_script("bytes:" + mid, wildcard=False) or {}
        self.counted_out = False
        with self.st.lock:
            self.st.inflight += 1
            self.st.max_inflight = max(self.st.max_inflight,
                                       self.st.inflight)
        try:
            self.send_media(mid, m, s)
        except OSError:  # the client went away (killed, or gave up)
            self.close_connection = True
        finally:
            self.media_sent()

    def media_sent(self):
        """Counts the download out of media_inflight, once. Done before
        its last bytes go out: the client cannot finish (and start another
        download) before the count has dropped."""
        if getattr(self, "counted_out", False):
            return
        self.counted_out = True
        with self.st.lock:
            self.st.inflight -= 1

    def send_media(self, mid, m, s):
        data = m["data"]
        self.send_response(200)
        self.send_header("Content-Type", m["mime_type"])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        sent = 0
        if s.get("hold_at") is not None:
            sent = min(int(s["hold_at"]), len(data))
            self.wfile.write(data[:sent])
            self.wfile.flush()
            self.st.hold(mid)
        end = len(data)
        if s.get("cut_at") is not None:
            end = max(sent, min(int(s["cut_at"]), len(data)))
        self.media_sent()
        self.wfile.write(data[sent:end])
        self.wfile.flush()
        if end < len(data):
            self.close_connection = True
            self.connection.shutdown(2)

    def dispatch(self):
        body = self.read_body()
        p = self.parts()
        if len(p) == 2 and p[0] == "_control":
            return self.control(p[1], body)
        if self.command == "POST" and len(p) == 2 and p[1] == "messages":
            return self.messages(p[0], body)
        if self.command == "GET" and len(p) == 2 and p[0] == "_media":
            return self.media_bytes(p[1])
        if self.command == "GET" and len(p) == 1:
            return self.media_meta(p[0])
        self.record(body)
        return self.send_json(*graph_error(
            100, "Unknown path components: " + self.path))

    do_GET = dispatch
    do_POST = dispatch
    do_DELETE = dispatch


def check_message(req):
    """Returns what Meta would reject in a send body, or None."""
    if req.get("messaging_product") != "whatsapp":
        return "The parameter messaging_product is required and must be " \
               "'whatsapp'."
    to = req.get("to")
    if not isinstance(to, str) or not (re.fullmatch(r"\+?\d{6,15}", to)
                                       or BSUID.match(to)):
        return "The parameter to must be a phone number (digits) or a " \
               "business-scoped user id."
    if req.get("recipient_type", "individual") not in ("individual",
                                                       "group"):
        return "Invalid recipient_type."
    t = req.get("type", "text")
    if t not in KNOWN_TYPES:
        return "Unsupported message type: %s" % t
    if t == "text":
        text = req.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"),
                                                        str):
            return "The parameter text['body'] is required."
        if not text["body"]:
            return "The parameter text['body'] must not be empty."
        if len(text["body"]) > 4096:
            return "Param text['body'] must be at most 4096 characters " \
                   "long."
    elif not isinstance(req.get(t), dict):
        return "The parameter %s is required." % t
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", required=True)
    ap.add_argument("--phone-id", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.state = State(a.token, a.phone_id)
    srv.state.base = "http://127.0.0.1:%d" % srv.server_address[1]
    print(srv.state.base, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
