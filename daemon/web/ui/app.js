// The staff inbox. Every text that a resident (or anyone) wrote is put in
// the page with textContent, never as HTML.
const $ = (id) => document.getElementById(id);
const PAGE = 50;
const POLL_MS = 3000;
const WA_WINDOW_MS = 24 * 3600 * 1000;

const STATUS = {
  baru: 'Baru', diproses: 'Diproses', menunggu_rt: 'Menunggu RT', selesai: 'Selesai',
};
const MSG_STATUS = {
  received: 'diterima', queued: 'antre', sending: 'mengirim', sent: 'terkirim',
  delivered: 'sampai', read: 'dibaca', failed: 'gagal',
};
const CHANNEL = { sms: 'SMS', whatsapp: 'WA' };

const state = { csrf: '', user: '', offset: 0, total: 0, open: null, rev: -1, conv: null };

class AuthError extends Error {}

async function api(method, path, body) {
  const opt = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') {
    opt.headers['X-CSRF-Token'] = state.csrf;
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opt);
  if (r.status === 401) {
    window.location.assign('/login');
    throw new AuthError('login');
  }
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || `HTTP ${r.status}`);
  return j;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString('id-ID', {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
}

function fmtDate(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleDateString('id-ID', { day: 'numeric', month: 'short', year: 'numeric' });
}

function contactLabel(c) {
  return c.name || c.phone || c.raw || (c.wa_id ? `+${c.wa_id}` : 'Tanpa nama');
}

function contactNumber(c) {
  return c.phone || (c.wa_id ? `+${c.wa_id}` : c.raw || '');
}

function channelBadges(channels) {
  const span = el('span', 'chans');
  for (const ch of channels || []) {
    const b = el('span', `chan chan-${ch}`, CHANNEL[ch] || ch);
    b.title = ch === 'sms' ? 'SMS' : 'WhatsApp';
    span.append(b);
  }
  return span;
}

function statusBadge(s) {
  return el('span', `status status-${s}`, STATUS[s] || s);
}

// ---- the list -----------------------------------------------------------

function filterQuery() {
  const p = new URLSearchParams();
  const add = (k, v) => { if (v) p.set(k, v); };
  add('q', $('f-q').value.trim());
  add('status', $('f-status').value);
  add('channel', $('f-channel').value);
  add('category', $('f-category').value.trim());
  add('assignee', $('f-assignee').value);
  if ($('f-overdue').checked) p.set('overdue', '1');
  p.set('limit', PAGE);
  p.set('offset', state.offset);
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
    const prefix = c.last.direction === 'out' ? 'Anda: ' : '';
    li.append(el('div', 'snippet', prefix + (c.last.body || `[${c.last.kind}]`)));
  }
  const meta = el('div', 'row meta');
  meta.append(statusBadge(c.status));
  if (c.ticket) meta.append(el('span', 'ticket', c.ticket));
  if (c.category) meta.append(el('span', 'category', c.category));
  if (c.assignee) meta.append(el('span', 'assignee', `👤 ${c.assignee}`));
  if (c.due_at) {
    const due = el('span', c.overdue ? 'due late' : 'due',
      c.overdue ? `Terlambat · ${fmtDate(c.due_at)}` : `Tenggat ${fmtDate(c.due_at)}`);
    meta.append(due);
  }
  li.append(meta);
  li.addEventListener('click', () => openConversation(c.id));
  li.addEventListener('keydown', (e) => { if (e.key === 'Enter') openConversation(c.id); });
  return li;
}

async function loadList() {
  const j = await api('GET', `/api/v1/conversations?${filterQuery()}`);
  state.total = j.total;
  const ul = $('conv-list');
  ul.replaceChildren(...j.items.map(listItem));
  if (!j.items.length) ul.append(el('li', 'muted center', 'Tidak ada percakapan.'));
  const from = j.total ? state.offset + 1 : 0;
  $('page-info').textContent = `${from}–${state.offset + j.items.length} dari ${j.total}`;
  $('prev').disabled = state.offset === 0;
  $('next').disabled = state.offset + j.items.length >= j.total;
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
  const a = el('a', 'media-doc', `📄 Unduh ${media.filename || 'lampiran'}`);
  a.href = url;
  a.download = '';
  return a;
}

function messageNode(m) {
  const li = el('li', `msg msg-${m.direction}${m.kind === 'notice' ? ' msg-notice' : ''}`);
  li.dataset.id = m.id;
  const head = el('div', 'msg-head muted');
  head.append(channelBadges([m.channel]));
  head.append(el('span', '', ` ${fmtTime(m.at)}`));
  if (m.direction === 'out') {
    head.append(el('span', 'who', ` · ${m.author === 'auto' ? 'Balasan otomatis' : (m.author || 'Petugas')}`));
  }
  li.append(head);
  const media = mediaNode(m);
  if (media) li.append(media);
  if (m.body) li.append(el('div', 'body', m.body));
  if (m.direction === 'out') {
    // A WhatsApp send that went out and got no answer: maybe delivered,
    // never resent by itself; staff check and resend by hand.
    const unsure = m.status === 'failed' && /^status tidak pasti/.test(m.error || '');
    const label = unsure ? 'status tidak pasti' : (MSG_STATUS[m.status] || m.status);
    const st = el('div', `msg-status st-${m.status}`, label);
    if (m.error) st.title = m.error;
    li.append(st);
  }
  return li;
}

function replyChannel(c) {
  const ch = c.last_channel || 'sms';
  if (ch === 'whatsapp' && c.last_in_at_ms && Date.now() - c.last_in_at_ms > WA_WINDOW_MS && c.contact.phone) {
    return { ch: 'sms', why: 'WhatsApp di luar jendela 24 jam, dikirim lewat SMS' };
  }
  return { ch, why: ch === 'sms' ? 'Dikirim lewat SMS' : 'Dikirim lewat WhatsApp' };
}

function renderConversation(c) {
  state.conv = c;
  $('empty').hidden = true;
  $('conv').hidden = false;
  $('c-name').textContent = contactLabel(c.contact);
  const meta = [contactNumber(c.contact)];
  if (c.ticket) meta.push(`Tiket ${c.ticket}`);
  if (c.category) meta.push(c.category);
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
    li.append(el('span', 'muted', `${n.author} · ${fmtTime(n.at)}: `));
    li.append(el('span', '', n.body));
    return li;
  }));
  const rc = replyChannel(c);
  $('reply-channel').textContent = rc.why;
  updateCount();
}

async function openConversation(id) {
  state.open = id;
  state.scrollDown = true;
  document.querySelectorAll('.conv-item').forEach((li) => {
    li.classList.toggle('active', Number(li.dataset.id) === id);
  });
  $('app').classList.remove('show-list');
  $('app').classList.add('show-conv');
  $('reply-error').hidden = true;
  await refreshConversation();
  loadCanned(id);
  if (state.conv && state.conv.unread > 0) {
    await api('POST', `/api/v1/conversations/${id}/read`);
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
      const o = el('option', '', `${c.rule}: ${c.text.slice(0, 60)}`);
      o.value = c.text;
      return o;
    }));
    sel.hidden = list.length === 0;
  } catch (e) {
    sel.hidden = true;
  }
}

async function refreshConversation() {
  if (!state.open) return;
  renderConversation(await api('GET', `/api/v1/conversations/${state.open}`));
  renderRt(await api('GET', `/api/v1/rt/requests?all=1&conversation=${state.open}`));
}

// ---- Ketua RT confirmation ---------------------------------------------------

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
    li.append(el('span', '', `Konfirmasi RT (${r.service}, kode ${r.code}) ke ${head}: `));
    li.append(el('strong', '', RT_STATE[r.state] || r.state));
    if (r.reason) li.append(el('span', 'muted', ` · ${r.reason}`));
    return li;
  }));
  ul.hidden = list.length === 0;
  $('c-rt-ask').disabled = list.some((r) => r.state === 'menunggu');
}

async function askRt() {
  $('reply-error').hidden = true;
  try {
    await api('POST', '/api/v1/rt/requests', { conversation: state.open });
    await refreshAll();
  } catch (e) {
    if (!(e instanceof AuthError)) showError(`Konfirmasi RT tidak dikirim: ${e.message}`);
  }
}

async function act(action, body) {
  try {
    await api('POST', `/api/v1/conversations/${state.open}/${action}`, body);
    await refreshAll();
  } catch (e) {
    if (!(e instanceof AuthError)) showError(e.message);
  }
}

function showError(msg) {
  $('reply-error').textContent = msg;
  $('reply-error').hidden = false;
}

// ---- reply box: SMS segments and the UCS-2 warning ------------------------

let countTimer = null;
function updateCount() {
  clearTimeout(countTimer);
  const text = $('reply-text').value;
  if (!state.conv) return;
  const { ch } = replyChannel(state.conv);
  if (ch !== 'sms') {
    $('reply-count').textContent = `${[...text].length} karakter`;
    $('reply-warn').hidden = true;
    return;
  }
  countTimer = setTimeout(async () => {
    const j = await api('GET', `/api/v1/sms/count?text=${encodeURIComponent(text)}`);
    $('reply-count').textContent = `${j.units} karakter · ${j.segments} SMS`;
    if (j.ucs2) {
      $('reply-warn').textContent = `Karakter "${j.first_non_gsm}" membuat SMS memakai UCS-2 (maks. 70 karakter per SMS).`;
      $('reply-warn').hidden = false;
    } else {
      $('reply-warn').hidden = true;
    }
  }, 200);
}

// ---- live updates ---------------------------------------------------------

async function refreshAll() {
  await loadList();
  await refreshConversation();
}

async function poll() {
  try {
    const j = await api('GET', '/api/v1/changes');
    if (j.rev !== state.rev) {
      state.rev = j.rev;
      await refreshAll();
    }
  } catch (e) {
    if (e instanceof AuthError) return;
  }
  setTimeout(poll, POLL_MS);
}

// ---- wiring -----------------------------------------------------------------

function wire() {
  let qTimer = null;
  const reload = () => { state.offset = 0; loadList(); };
  $('f-q').addEventListener('input', () => { clearTimeout(qTimer); qTimer = setTimeout(reload, 300); });
  for (const id of ['f-status', 'f-channel', 'f-assignee', 'f-overdue']) $(id).addEventListener('change', reload);
  $('f-category').addEventListener('change', reload);
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); reload(); });
  $('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); loadList(); });
  $('next').addEventListener('click', () => { state.offset += PAGE; loadList(); });
  $('back').addEventListener('click', () => {
    $('app').classList.add('show-list');
    $('app').classList.remove('show-conv');
  });
  $('c-status').addEventListener('change', () => act('status', { status: $('c-status').value }));
  $('c-assignee').addEventListener('change', () => act('assign', { assignee: $('c-assignee').value }));
  $('c-rt-save').addEventListener('click', () => act('rt', { rt: $('c-rt').value.trim() }));
  $('c-resolve').addEventListener('click', () => act('status', { status: 'selesai' }));
  $('c-rt-ask').addEventListener('click', askRt);
  $('note-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('note-text').value.trim();
    if (!text) return;
    await act('notes', { text });
    $('note-text').value = '';
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
    if (!text) return;
    $('reply-send').disabled = true;
    $('reply-error').hidden = true;
    try {
      await api('POST', `/api/v1/conversations/${state.open}/reply`, { text });
      $('reply-text').value = '';
      state.scrollDown = true;
      await refreshAll();
    } catch (err) {
      if (!(err instanceof AuthError)) showError(`Balasan tidak terkirim: ${err.message}`);
    } finally {
      $('reply-send').disabled = false;
    }
  });
  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/v1/logout'); } catch (e) { /* going anyway */ }
    window.location.assign('/login');
  });
}

async function main() {
  const me = await api('GET', '/api/v1/me');
  state.csrf = me.csrf;
  state.user = me.user;
  $('me').textContent = me.user;
  const users = await api('GET', '/api/v1/users');
  for (const sel of [$('f-assignee'), $('c-assignee')]) {
    for (const u of users) {
      const o = el('option', '', u.name);
      o.value = u.name;
      sel.append(o);
    }
  }
  wire();
  poll();
}

main().catch((e) => { if (!(e instanceof AuthError)) console.error(e); });
