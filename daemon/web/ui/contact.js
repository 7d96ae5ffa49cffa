// The contact page: what staff know about a person, and every
// conversation with them on both channels.
import { $, api, el, toast, failed } from './net.js';
import { categoryLabel } from './words.js';
import { fmtTime, contactLabel, channelBadges, statusBadge } from './fmt.js';

let current = null; // the contact the form shows and saves
let loading = 0; // the newest showContact(); older answers are dropped

// While a contact loads, the form still holds the one before: it takes
// no typing and no save, or the name meant for this resident would be
// saved on that one (or, on a first visit, silently nowhere).
function formEnabled(on) {
  for (const e of $('k-form').elements) e.disabled = !on;
}

function convItem(c) {
  const li = el('li', 'conv-item');
  const a = el('a', 'conv-link');
  a.href = `#/c/${c.id}`;
  const top = el('div', 'row');
  top.append(channelBadges(c.channels));
  top.append(el('strong', 'name', c.ticket ? `Tiket ${c.ticket}` : `Percakapan ${fmtTime(c.opened_at)}`));
  top.append(el('span', 'time muted', fmtTime(c.updated_at)));
  a.append(top);
  if (c.last) a.append(el('div', 'snippet', c.last));
  const meta = el('div', 'row meta');
  meta.append(statusBadge(c.status));
  if (c.category) meta.append(el('span', 'category', categoryLabel(c.category)));
  a.append(meta);
  li.append(a);
  return li;
}

function render(j) {
  const k = j.contact;
  current = k.id;
  formEnabled(true);
  $('k-title').textContent = contactLabel(k);
  const nums = [];
  if (k.phone) nums.push(`SMS ${k.phone}`);
  if (k.wa_id) nums.push(`WhatsApp +${k.wa_id}`);
  if (!k.phone && !k.wa_id && k.raw) nums.push(`Pengirim ${k.raw}`);
  $('k-numbers').textContent = nums.join(' · ');
  if (document.activeElement !== $('k-name')) $('k-name').value = k.name || '';
  $('k-profile').textContent = k.profile_name && k.profile_name !== k.name
    ? `Nama di profil WhatsApp: ${k.profile_name}` : '';
  $('k-rt').value = k.rt || '';
  $('k-rw').value = k.rw || '';
  $('k-notes').value = k.notes || '';
  $('k-convs').replaceChildren(...j.conversations.map(convItem));
  if (!j.conversations.length) $('k-convs').append(el('li', 'muted center', 'Belum ada percakapan.'));
}

export async function showContact(id) {
  const mine = ++loading;
  current = null;
  formEnabled(false);
  $('k-title').textContent = 'Memuat data warga…';
  $('k-numbers').textContent = '';
  $('k-profile').textContent = '';
  try {
    const j = await api('GET', `/api/v1/contacts/${id}`);
    if (mine === loading) render(j);
  } catch (e) {
    if (mine === loading) failed(e, $('k-title'));
  }
}

$('k-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!current) return;
  const btn = $('k-save');
  const mine = loading;
  try {
    const j = await api('POST', `/api/v1/contacts/${current}`, {
      name: $('k-name').value.trim(),
      rt: $('k-rt').value.trim(),
      rw: $('k-rw').value.trim(),
      notes: $('k-notes').value.trim(),
    });
    if (mine === loading) render(j); // not if staff moved on meanwhile
    toast('Data warga disimpan.', btn);
  } catch (err) {
    failed(err, btn, 'Belum tersimpan: ');
  }
});
