// The staff inbox. Every text that a resident (or anyone) wrote is put in
// the page with textContent, never as HTML.
import {
  $, api, el, toast, failed, live, session, onReconnect, isOnline, AuthError,
} from './net.js';
import {
  STATUS, MSG_STATUS, categoryLabel, authorLabel, serviceLabel, sendProblem,
} from './words.js';
import {
  fmtTime, fmtDate, contactLabel, contactNumber, channelBadges, statusBadge,
} from './fmt.js';
import { showContact } from './contact.js';
import { showReports } from './reports.js';
import { showUsers } from './users.js';
import { initAnnounce, showAnnounce } from './announce.js';

const PAGE = 50;
const WA_WINDOW_MS = 24 * 3600 * 1000;
const STUCK_MS = 2 * 60 * 1000;

// Pages by keyset cursor: cursor is the "next" the page before this one
// gave ('' for the first), back the cursors of the pages before it.
const state = {
  cursor: '', back: [], next: null, total: 0, open: null, conv: null, box: 'kerja', scrollDown: false,
};

// ---- the list -----------------------------------------------------------

function filterQuery() {
  const p = new URLSearchParams();
  const add = (k, v) => { if (v) p.set(k, v); };
  add('box', state.box);
  add('q', $('f-q').value.trim());
  add('status', $('f-status').value);
  add('channel', $('f-channel').value);
  add('category', $('f-category').value);
  add('assignee', $('f-assignee').value);
  if ($('f-overdue').checked) p.set('overdue', '1');
  p.set('limit', PAGE);
  if (state.cursor) p.set('before', state.cursor);
  return p.toString();
}

function listItem(c) {
  const li = el('li', 'conv-item');
  li.dataset.id = c.id;
  li.tabIndex = 0;
  if (state.open === c.id) li.classList.add('active');
  if (c.overdue) li.classList.add('overdue');

  const top = el('div', 'row');
  top.append(channelBadges(c.channels));
  top.append(el('strong', 'name', contactLabel(c.contact)));
  if (c.unread > 0) {
    const u = el('span', 'unread', c.unread);
    u.title = `${c.unread} pesan belum dibaca`;
    top.append(u);
  }
  top.append(el('span', 'time muted', fmtTime(c.last ? c.last.at : c.updated_at)));
  li.append(top);

  const num = contactNumber(c.contact);
  if (num && num !== contactLabel(c.contact)) li.append(el('div', 'number muted', num));
  if (c.last) {
    const prefix = c.last.direction === 'out' ? 'Kita: ' : '';
    li.append(el('div', 'snippet', prefix + (c.last.body || '[lampiran]')));
  }
  const meta = el('div', 'row meta');
  meta.append(statusBadge(c.status));
  if (c.ticket) meta.append(el('span', 'ticket', c.ticket));
  if (c.category) meta.append(el('span', 'category', categoryLabel(c.category)));
  if (c.assignee) meta.append(el('span', 'assignee', `Petugas: ${c.assignee}`));
  if (c.due_at) {
    meta.append(el('span', c.overdue ? 'due late' : 'due',
      c.overdue ? `Terlambat · ${fmtDate(c.due_at)}` : `Tenggat ${fmtDate(c.due_at)}`));
  }
  li.append(meta);
  li.addEventListener('click', () => go(`#/c/${c.id}`));
  li.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(`#/c/${c.id}`); });
  return li;
}

// Answers can come back out of order (a slow search, then a live
// update): only the newest request may paint the list.
let listSeq = 0;
async function loadList() {
  const seq = ++listSeq;
  const j = await api('GET', `/api/v1/conversations?${filterQuery()}`);
  if (seq !== listSeq) return;
  state.total = j.total;
  state.next = j.next;
  const ul = $('conv-list');
  ul.replaceChildren(...j.items.map(listItem));
  if (!j.items.length) ul.append(el('li', 'muted center', 'Tidak ada percakapan di sini.'));
  // The daemon counts up to a cap (and search looks at the newest
  // matches only): past it, "lebih dari N" rather than a count of all.
  const skipped = state.back.length * PAGE;
  const from = j.items.length ? skipped + 1 : 0;
  const of = j.more ? `lebih dari ${j.total}` : String(j.total);
  $('page-info').textContent = `${from}–${skipped + j.items.length} dari ${of}`;
  $('prev').disabled = state.back.length === 0;
  $('next').disabled = !j.next;
  ul.dataset.loaded = String(seq);
}

// A short tone drawn by the browser (no sound file), only when the clerk
// asked for it; the AudioContext is made by that tap (autoplay rules).
let audio = null;
function beep() {
  if (!audio) return;
  const o = audio.createOscillator();
  const g = audio.createGain();
  o.frequency.value = 880;
  g.gain.setValueAtTime(0.2, audio.currentTime);
  g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
  o.connect(g).connect(audio.destination);
  o.start();
  o.stop(audio.currentTime + 0.4);
}

// The count of new conversations, on the "Baru" tab and in the tab title.
let lastNew = -1;
async function loadNewCount() {
  const j = await api('GET', '/api/v1/conversations?box=kerja&status=baru&limit=1');
  if (lastNew >= 0 && j.total > lastNew) beep();
  lastNew = j.total;
  const n = j.total ? `${j.total}${j.more ? '+' : ''}` : '';
  $('n-kerja').textContent = n;
  document.title = `${n ? `(${n}) ` : ''}Kotak Masuk — Simpul`;
}

async function loadCategories() {
  const cats = await api('GET', '/api/v1/categories');
  const sel = $('f-category');
  const cur = sel.value;
  const first = el('option', '', 'Semua kategori');
  first.value = '';
  const opts = cats.map((c) => {
    const o = el('option', '', `${categoryLabel(c.slug)} (${c.count})`);
    o.value = c.slug;
    return o;
  }).sort((a, b) => a.textContent.localeCompare(b.textContent, 'id'));
  sel.replaceChildren(first, ...opts);
  sel.value = cur;
}

// ---- one conversation ---------------------------------------------------

function mediaNode(m) {
  let media = null;
  try { media = m.media ? JSON.parse(m.media) : null; } catch (e) { media = null; }
  if (!media) return null;
  const url = `/api/v1/messages/${m.id}/media`;
  if (!media.file) return el('div', 'muted', 'Lampiran sedang diunduh…');
  if (m.kind === 'image' || m.kind === 'sticker') {
    const a = el('a');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener';
    const img = el('img', 'media-img');
    img.src = url;
    img.alt = 'Gambar dari warga';
    a.append(img);
    return a;
  }
  const a = el('a', 'media-doc', `Unduh ${media.filename || 'lampiran'}`);
  a.href = url;
  a.download = '';
  return a;
}

function problemOf(m) {
  const p = sendProblem(m);
  if (p) return p;
  const now = state.conv ? state.conv.now_ms : 0;
  if ((m.status === 'queued' || m.status === 'sending') && m.at_ms && now
      && now - m.at_ms > STUCK_MS) {
    return 'Belum terkirim: saluran belum menjawab. Dicoba lagi otomatis.';
  }
  return '';
}

function messageNode(m) {
  const extra = m.kind === 'notice' ? ' msg-notice' : m.kind === 'missed_call' ? ' msg-call' : '';
  const li = el('li', `msg msg-${m.direction}${extra}`);
  li.dataset.id = m.id;
  const head = el('div', 'msg-head muted');
  head.append(channelBadges([m.channel]));
  head.append(el('span', '', ` ${fmtTime(m.at)}`));
  if (m.direction === 'out') head.append(el('span', 'who', ` · ${authorLabel(m.author)}`));
  li.append(head);
  const media = mediaNode(m);
  if (media) li.append(media);
  if (m.body) li.append(el('div', 'body', m.body));
  if (m.direction === 'out') {
    // A WhatsApp send that went out and got no answer: maybe delivered,
    // never resent by itself; staff check and resend by hand.
    const unsure = m.status === 'failed' && /^status tidak pasti/.test(m.error || '');
    const label = unsure ? 'status tidak pasti' : (MSG_STATUS[m.status] || m.status);
    li.append(el('div', `msg-status st-${m.status}`, label));
    const p = problemOf(m);
    if (p) li.append(el('div', 'msg-problem', p));
  }
  if (m.kind === 'missed_call') li.append(callBackNode(m));
  return li;
}

// A missed call: who called the resident back and when, or the button.
function callBackNode(m) {
  const box = el('div', 'call-back');
  if (m.called_back_by) {
    const at = new Date(m.called_back_at_ms).toISOString();
    box.append(el('span', 'muted', `Ditelepon balik oleh ${m.called_back_by}, ${fmtTime(at)}`));
    return box;
  }
  if (m.peer === 'TERSEMBUNYI') return box;
  const b = el('button', 'btn-call-back', 'Telepon balik');
  b.type = 'button';
  b.title = 'Catat bahwa Anda sudah menelepon balik warga ini';
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await api('POST', `/api/v1/messages/${m.id}/callback`);
      toast('Telepon balik tercatat', b);
      await refreshConversation();
    } catch (e) {
      b.disabled = false;
      failed(e, b);
    }
  });
  box.append(b);
  return box;
}

function replyChannel(c) {
  const ch = c.last_channel || 'sms';
  if (ch === 'whatsapp' && c.last_in_at_ms && c.now_ms - c.last_in_at_ms > WA_WINDOW_MS && c.contact.phone) {
    return { ch: 'sms', why: 'Lewat SMS (WhatsApp sudah lewat 24 jam)' };
  }
  return { ch, why: ch === 'sms' ? 'Lewat SMS' : 'Lewat WhatsApp' };
}

function renderConversation(c) {
  state.conv = c;
  $('empty').hidden = true;
  $('conv').hidden = false;
  $('c-name').textContent = contactLabel(c.contact);
  $('c-name').href = `#/kontak/${c.contact.id}`;
  $('c-contact').href = `#/kontak/${c.contact.id}`;
  const meta = [contactNumber(c.contact), STATUS[c.status] || c.status];
  if (c.ticket) meta.push(`Tiket ${c.ticket}`);
  if (c.category) meta.push(categoryLabel(c.category));
  if (c.due_at) meta.push(c.overdue ? `Terlambat (tenggat ${fmtDate(c.due_at)})` : `Tenggat ${fmtDate(c.due_at)}`);
  $('c-meta').textContent = meta.filter(Boolean).join(' · ');
  $('c-meta').classList.toggle('late', !!c.overdue);
  $('c-status').value = c.status;
  $('c-assignee').value = c.assignee || '';
  if (document.activeElement !== $('c-rt')) $('c-rt').value = c.contact.rt || '';
  $('c-resolve').hidden = c.status === 'selesai';

  const tl = $('timeline');
  const atBottom = tl.scrollHeight - tl.scrollTop - tl.clientHeight < 40;
  tl.replaceChildren(...c.messages.map(messageNode));
  if (atBottom || state.scrollDown) tl.scrollTop = tl.scrollHeight;
  state.scrollDown = false;

  $('n-count').textContent = c.notes.length;
  $('notes').replaceChildren(...c.notes.map((n) => {
    const li = el('li', 'note');
    li.append(el('span', 'muted', `${authorLabel(n.author)} · ${fmtTime(n.at)}: `));
    li.append(el('span', '', n.body));
    return li;
  }));
  $('reply-channel').textContent = replyChannel(c).why;
  updateCount();
}

function closeConversation() {
  state.open = null;
  state.conv = null;
  $('conv').hidden = true;
  $('empty').textContent = 'Pilih percakapan di daftar.';
  $('empty').hidden = false;
  $('app').classList.add('show-list');
  $('app').classList.remove('show-conv');
  document.querySelectorAll('.conv-item.active').forEach((li) => li.classList.remove('active'));
}

// Switching conversations hides the old one at once, before anything is
// fetched: a click on "Tindakan" or "Selesaikan" in that gap must not act on
// the conversation being left, nor be undone when the new one arrives.
function selectConversation(id) {
  if (state.open === id) return false;
  state.open = id;
  state.conv = null;
  state.scrollDown = true;
  setTools(false);
  $('conv').hidden = true;
  $('empty').textContent = 'Memuat percakapan…';
  $('empty').hidden = false;
  return true;
}

async function openConversation(id) {
  const same = !selectConversation(id) && state.conv !== null;
  document.querySelectorAll('.conv-item').forEach((li) => {
    li.classList.toggle('active', Number(li.dataset.id) === id);
  });
  $('app').classList.remove('show-list');
  $('app').classList.add('show-conv');
  try {
    await refreshConversation();
  } catch (e) {
    closeConversation();
    failed(e, $('conv-list'));
    return;
  }
  if (!same) loadCanned(id);
  if (state.conv && state.conv.unread > 0) {
    await api('POST', `/api/v1/conversations/${id}/read`).catch(() => {});
  }
}

// Canned replies: the rules' answers, filled in for this resident.
async function loadCanned(id) {
  const sel = $('canned');
  try {
    const list = await api('GET', `/api/v1/canned?conversation=${id}`);
    const first = el('option', '', 'Balasan siap pakai…');
    first.value = '';
    sel.replaceChildren(first, ...list.map((c) => {
      const o = el('option', '', c.text.slice(0, 70));
      o.value = c.text;
      return o;
    }));
    sel.hidden = list.length === 0;
  } catch (e) {
    sel.hidden = true;
  }
}

let convSeq = 0;
async function refreshConversation() {
  if (!state.open) return;
  const id = state.open;
  const seq = ++convSeq;
  const [c, rt] = await Promise.all([
    api('GET', `/api/v1/conversations/${id}`),
    api('GET', `/api/v1/rt/requests?all=1&conversation=${id}`),
  ]);
  if (seq !== convSeq || state.open !== id) return;
  renderConversation(c);
  renderRt(rt);
}

// ---- Ketua RT confirmation -----------------------------------------------

const RT_STATE = {
  menunggu: 'menunggu jawaban', disetujui: 'disetujui', ditolak: 'ditolak',
  kedaluwarsa: 'kedaluwarsa', batal: 'dibatalkan',
};

function renderRt(list) {
  const ul = $('rt-list');
  ul.replaceChildren(...list.map((r) => {
    const li = el('li', `rt-req rt-${r.state}`);
    const where = r.rw ? `RT ${r.rt} RW ${r.rw}` : `RT ${r.rt}`;
    const head = r.head_name ? `${r.head_name}, Ketua ${where}` : `Ketua ${where}`;
    li.append(el('span', '', `Konfirmasi RT untuk ${serviceLabel(r.service)} (kode ${r.code}) ke ${head}: `));
    li.append(el('strong', '', RT_STATE[r.state] || r.state));
    if (r.reason) li.append(el('span', 'muted', ` · ${r.reason}`));
    return li;
  }));
  ul.hidden = list.length === 0;
  state.rt = list;
  $('c-rt-ask').disabled = list.some((r) => r.state === 'menunggu');
}

async function askRt() {
  const btn = $('c-rt-ask');
  // A second ask after an approval bothers the Ketua RT again: say so.
  if ((state.rt || []).some((r) => r.state === 'disetujui')
      && !window.confirm('Ketua RT sudah membenarkan warga ini. Tetap minta konfirmasi lagi?')) return;
  try {
    await api('POST', '/api/v1/rt/requests', { conversation: state.open });
    toast('Permintaan konfirmasi dikirim ke Ketua RT.', btn);
    await refreshAll();
  } catch (e) {
    failed(e, btn, 'Konfirmasi RT tidak dikirim: ');
  }
}

async function act(action, body, near, done) {
  try {
    await api('POST', `/api/v1/conversations/${state.open}/${action}`, body);
    if (done) toast(done, near);
    await refreshAll();
    return true;
  } catch (e) {
    failed(e, near);
    return false;
  }
}

function setTools(open) {
  $('tools').hidden = !open;
  $('tools-toggle').setAttribute('aria-expanded', String(open));
  $('tools-toggle').classList.toggle('on', open);
}

// ---- reply box: SMS parts and the special-letters warning ------------------

let countTimer = null;
function updateCount() {
  clearTimeout(countTimer);
  const text = $('reply-text').value;
  if (!state.conv) return;
  const { ch } = replyChannel(state.conv);
  if (ch !== 'sms') {
    $('reply-count').textContent = text ? `${[...text].length} huruf` : '';
    $('reply-warn').hidden = true;
    return;
  }
  if (!text) {
    $('reply-count').textContent = '';
    $('reply-warn').hidden = true;
    return;
  }
  countTimer = setTimeout(async () => {
    try {
      const j = await api('GET', `/api/v1/sms/count?text=${encodeURIComponent(text)}`);
      $('reply-count').textContent = `${j.units} huruf · ${j.segments} SMS`;
      if (j.ucs2) {
        $('reply-warn').textContent = `${j.first_non_gsm} = emoji atau huruf khusus: 1 SMS = 70 huruf`;
        $('reply-warn').hidden = false;
      } else {
        $('reply-warn').hidden = true;
      }
    } catch (e) { /* the banner says why */ }
  }, 200);
}

// ---- refresh, one at a time ---------------------------------------------

let refreshing = null;
let again = false;
export async function refreshAll() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    do {
      again = false;
      try {
        if (document.body.dataset.view === 'inbox') {
          await Promise.all([loadList(), refreshConversation(), loadNewCount()]);
        } else {
          await loadNewCount();
        }
      } catch (e) {
        if (e instanceof AuthError) return;
      }
    } while (again);
  })();
  try { await refreshing; } finally { refreshing = null; }
  return undefined;
}

// ---- views (hash routes) ------------------------------------------------

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function showView(name) {
  document.body.dataset.view = name;
  for (const v of ['inbox', 'contact', 'reports', 'users', 'announce']) $(`${v}-view`).hidden = v !== name;
  $('nav-inbox').classList.toggle('on', name === 'inbox' || name === 'contact');
  $('nav-reports').classList.toggle('on', name === 'reports');
  $('nav-users').classList.toggle('on', name === 'users');
  $('nav-announce').classList.toggle('on', name === 'announce');
}

async function route() {
  const h = window.location.hash || '#/';
  let m;
  if ((m = h.match(/^#\/c\/(\d+)$/))) {
    showView('inbox');
    selectConversation(Number(m[1]));
    await loadList().catch(() => {});
    await openConversation(Number(m[1]));
  } else if ((m = h.match(/^#\/kontak\/(\d+)$/))) {
    showView('contact');
    await showContact(Number(m[1]));
  } else if (h === '#/laporan') {
    showView('reports');
    await showReports();
  } else if (h === '#/pengumuman') {
    showView('announce');
    await showAnnounce().catch((e) => failed(e, $('ann-check')));
  } else if (h === '#/pengguna') {
    showView('users');
    await showUsers();
  } else {
    showView('inbox');
    closeConversation();
    await refreshAll();
  }
}

// ---- wiring -----------------------------------------------------------------

// The status choices, in the order a conversation goes through them; the
// labels are words.js's, the one list of them.
const STATUS_ORDER = ['baru', 'diproses', 'menunggu_rt', 'otomatis', 'selesai'];

function fillStatuses() {
  for (const sel of [$('f-status'), $('c-status')]) {
    for (const k of STATUS_ORDER) {
      const o = el('option', '', STATUS[k]);
      o.value = k;
      sel.append(o);
    }
  }
}

function wire() {
  fillStatuses();
  let qTimer = null;
  const reload = () => {
    state.cursor = '';
    state.back = [];
    loadList().catch((e) => failed(e, $('f-q')));
  };
  $('f-q').addEventListener('input', () => { clearTimeout(qTimer); qTimer = setTimeout(reload, 300); });
  for (const id of ['f-status', 'f-channel', 'f-category', 'f-assignee', 'f-overdue']) $(id).addEventListener('change', reload);
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); reload(); });
  for (const b of document.querySelectorAll('#boxes .box')) {
    b.addEventListener('click', () => {
      state.box = b.dataset.box;
      document.querySelectorAll('#boxes .box').forEach((x) => x.classList.toggle('on', x === b));
      reload();
    });
  }
  $('prev').addEventListener('click', () => { state.cursor = state.back.pop() || ''; loadList(); });
  $('next').addEventListener('click', () => {
    if (!state.next) return;
    state.back.push(state.cursor);
    state.cursor = state.next;
    loadList();
  });
  $('back').addEventListener('click', () => go('#/'));
  $('tools-toggle').addEventListener('click', () => setTools($('tools').hidden));
  $('c-status').addEventListener('change', () => act('status', { status: $('c-status').value }, $('c-status'), 'Status diubah.'));
  $('c-assignee').addEventListener('change', () => act('assign', { assignee: $('c-assignee').value }, $('c-assignee'), 'Petugas diubah.'));
  $('c-rt-save').addEventListener('click', () => act('rt', { rt: $('c-rt').value.trim() }, $('c-rt-save'), 'RT disimpan.'));
  $('c-resolve').addEventListener('click', async () => {
    if (await act('status', { status: 'selesai' }, $('c-resolve'), 'Percakapan diselesaikan.')) setTools(false);
  });
  $('c-rt-ask').addEventListener('click', askRt);
  $('note-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('note-text').value.trim();
    if (!text) return;
    if (await act('notes', { text }, $('note-text'), 'Catatan ditambahkan.')) $('note-text').value = '';
  });
  $('reply-text').addEventListener('input', updateCount);
  $('canned').addEventListener('change', () => {
    if (!$('canned').value) return;
    $('reply-text').value = $('canned').value;
    $('canned').value = '';
    updateCount();
    $('reply-text').focus();
  });
  $('reply-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('reply-text').value.trim();
    const btn = $('reply-send');
    if (!text || !state.open) return;
    if (!isOnline()) {
      toast('Belum tersambung ke server: balasan belum dikirim, teks tetap di sini.', btn, 'error');
      return;
    }
    btn.disabled = true;
    try {
      await api('POST', `/api/v1/conversations/${state.open}/reply`, { text });
      $('reply-text').value = '';
      updateCount();
      state.scrollDown = true;
      toast('Balasan masuk antrean kirim.', btn);
      await refreshAll();
    } catch (err) {
      failed(err, btn, 'Balasan tidak terkirim: ');
    } finally {
      btn.disabled = false;
    }
  });
  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/v1/logout'); } catch (e) { /* going anyway */ }
    window.location.assign('/login');
  });
  $('sound').checked = localStorage.getItem('simpul-sound') === '1';
  $('sound').addEventListener('change', () => {
    localStorage.setItem('simpul-sound', $('sound').checked ? '1' : '0');
    audio = $('sound').checked ? (audio || new AudioContext()) : null;
  });
  // Sound kept on from an earlier visit starts with the first tap.
  document.addEventListener('pointerdown', () => {
    if ($('sound').checked && !audio) audio = new AudioContext();
  });
  window.addEventListener('hashchange', route);
  onReconnect(() => refreshAll());
}

async function main() {
  const me = await api('GET', '/api/v1/me');
  session.csrf = me.csrf;
  session.user = me.user;
  session.role = me.role;
  $('me').textContent = me.user;
  $('nav-users').hidden = me.role !== 'admin';
  $('nav-announce').hidden = me.role !== 'admin';
  if (me.role === 'admin') initAnnounce();
  const users = await api('GET', '/api/v1/users');
  for (const sel of [$('f-assignee'), $('c-assignee')]) {
    for (const u of users) {
      const o = el('option', '', u.name);
      o.value = u.name;
      sel.append(o);
    }
  }
  wire();
  await loadCategories().catch(() => {});
  await route();
  live(() => { refreshAll(); });
  document.body.dataset.ready = '1';
}

main().catch((e) => { if (!(e instanceof AuthError)) console.error(e); });
