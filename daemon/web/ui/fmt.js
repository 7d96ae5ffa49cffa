// How dates, people and badges look, the same on every page.
import { el } from './net.js';
import { STATUS, CHANNEL } from './words.js';

export function fmtTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString('id-ID', {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
}

export function fmtDate(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleDateString('id-ID', { day: 'numeric', month: 'short', year: 'numeric' });
}

export function contactLabel(c) {
  return c.name || c.phone || c.raw || (c.wa_id ? `+${c.wa_id}` : 'Tanpa nama');
}

export function contactNumber(c) {
  return c.phone || (c.wa_id ? `+${c.wa_id}` : c.raw || '');
}

export function channelBadges(channels) {
  const span = el('span', 'chans');
  for (const ch of channels || []) {
    const b = el('span', `chan chan-${ch}`, CHANNEL[ch] || ch);
    b.title = ch === 'sms' ? 'SMS' : 'WhatsApp';
    span.append(b);
  }
  return span;
}

export function statusBadge(s) {
  return el('span', `status status-${s}`, STATUS[s] || s);
}
