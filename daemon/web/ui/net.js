// The page's link to simpuld: JSON requests with the CSRF token, the
// connection banner, toasts, and live updates by Server-Sent Events with
// polling only where EventSource is missing or the stream is refused.
import { friendlyError } from './words.js';

export const $ = (id) => document.getElementById(id);
export const session = { csrf: '', user: '', role: '' };

export class AuthError extends Error {}
export class ApiError extends Error {
  constructor(status, raw) {
    super(friendlyError(status, raw));
    this.status = status;
    this.raw = raw;
  }
}

let online = true;
const onlineHooks = [];
export function onReconnect(fn) { onlineHooks.push(fn); }

export function setOnline(ok) {
  if (ok === online) return;
  online = ok;
  $('conn-banner').hidden = ok;
  document.body.classList.toggle('offline', !ok);
  if (ok) onlineHooks.forEach((fn) => fn());
  else probeLater();
}
export const isOnline = () => online;

let probeTimer = null;
// While the daemon is away, one light request every 5 s finds it again.
function probeLater() {
  clearTimeout(probeTimer);
  probeTimer = setTimeout(async () => {
    try {
      const r = await fetch('/api/v1/me', { credentials: 'same-origin' });
      if (r.status === 401) { window.location.assign('/login'); return; }
      setOnline(true);
    } catch (e) {
      probeLater();
    }
  }, 5000);
}

export async function api(method, path, body) {
  const opt = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') {
    opt.headers['X-CSRF-Token'] = session.csrf;
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body || {});
  }
  let r;
  try {
    r = await fetch(path, opt);
  } catch (e) {
    setOnline(false);
    throw new ApiError(0, '');
  }
  setOnline(true);
  if (r.status === 401) {
    window.location.assign('/login');
    throw new AuthError('login');
  }
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, j.error);
  return j;
}

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// A toast beside the control that caused it, so a tap at the bottom of
// a phone screen gets its answer where the thumb is.
let toastTimer = null;
export function toast(msg, near, kind = 'ok') {
  const t = $('toast');
  t.textContent = msg;
  t.className = `toast toast-${kind}`;
  t.hidden = false;
  const vw = document.documentElement.clientWidth;
  const r = near && near.getBoundingClientRect ? near.getBoundingClientRect() : null;
  const w = Math.min(320, vw - 16);
  t.style.width = `${w}px`;
  if (r && r.width) {
    const left = Math.max(8, Math.min(vw - w - 8, r.left + r.width / 2 - w / 2));
    t.style.left = `${left}px`;
    const above = r.top - t.offsetHeight - 8;
    t.style.top = `${above > 8 ? above : r.bottom + 8}px`;
  } else {
    t.style.left = `${(vw - w) / 2}px`;
    t.style.top = '60px';
  }
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, kind === 'error' ? 8000 : 3000);
}

export function failed(e, near, prefix = '') {
  if (e instanceof AuthError) return;
  toast(prefix + (e.message || 'Terjadi gangguan.'), near, 'error');
}

// ---- live updates ---------------------------------------------------------

const FALLBACK_POLL_MS = 10000;

// One stream per browser, not per tab: over HTTP/1.1 a browser opens at
// most 6 connections to one host, so ten tabs with a stream each would
// leave the seventh without a connection for anything. The tab holding
// the Web Lock keeps the EventSource and tells the others on a
// BroadcastChannel; when it closes, the next tab takes the lock.
export function live(onChange) {
  let rev = -1;
  const changed = (r) => { if (r !== rev) { rev = r; onChange(); } };
  if (!window.EventSource) { poll(changed); return; }
  if (!navigator.locks || !window.BroadcastChannel) { stream(changed, null); return; }
  const bc = new BroadcastChannel('simpul-live');
  bc.onmessage = (ev) => {
    if (typeof ev.data.rev === 'number') changed(ev.data.rev);
    if (typeof ev.data.online === 'boolean') setOnline(ev.data.online);
  };
  navigator.locks.request('simpul-live', () => new Promise(() => stream(changed, bc)));
}

function stream(changed, bc) {
  const tell = (m) => { if (bc) bc.postMessage(m); };
  const es = new EventSource('/api/v1/events');
  es.addEventListener('change', (ev) => {
    const r = Number(ev.lastEventId);
    setOnline(true);
    tell({ rev: r, online: true });
    changed(r);
  });
  es.addEventListener('open', () => { setOnline(true); tell({ online: true }); });
  es.addEventListener('error', async () => {
    // The browser reconnects by itself (retry: 3000); find out whether
    // the daemon is away or the session ended.
    try {
      const r = await fetch('/api/v1/me', { credentials: 'same-origin' });
      if (r.status === 401) window.location.assign('/login');
    } catch (e) {
      setOnline(false);
      tell({ online: false });
    }
    // CLOSED: the answer was not a stream (a proxy in between?)
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      poll(changed);
    }
  });
}

async function poll(changed) {
  try {
    const j = await api('GET', '/api/v1/changes');
    changed(j.rev);
  } catch (e) {
    if (e instanceof AuthError) return;
  }
  setTimeout(() => poll(changed), FALLBACK_POLL_MS);
}
