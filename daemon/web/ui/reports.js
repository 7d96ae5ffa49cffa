// The monthly report: tables the lurah reads and the camat receives,
// SVG charts drawn here (nothing fetched from elsewhere), the same
// tables as CSV from the daemon, and a page that prints cleanly.
import { $, api, el, failed } from './net.js';
import { categoryLabel } from './words.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function monthTitle(m) {
  const [y, mo] = m.split('-').map(Number);
  return new Date(y, mo - 1, 1).toLocaleDateString('id-ID', { month: 'long', year: 'numeric' });
}

// Messages per day: stacked bars, SMS below, WhatsApp on top.
function dayChart(days) {
  const W = 640; const H = 180; const pad = 24;
  const max = Math.max(1, ...days.map((d) => d.sms_in + d.sms_out + d.wa_in + d.wa_out));
  const bw = (W - pad) / days.length;
  const s = svg('svg', { viewBox: `0 0 ${W} ${H + 20}`, class: 'chart', role: 'img' });
  s.append(svg('title', {}, 'Pesan per hari: SMS (biru) dan WhatsApp (hijau)'));
  s.append(svg('text', { x: 0, y: 12, class: 'axis' }, String(max)));
  days.forEach((d, i) => {
    const sms = d.sms_in + d.sms_out;
    const wa = d.wa_in + d.wa_out;
    const x = pad + i * bw + 1;
    const hs = (sms / max) * H;
    const hw = (wa / max) * H;
    s.append(svg('rect', { x, y: H - hs, width: bw - 2, height: hs, class: 'bar-sms' }));
    s.append(svg('rect', { x, y: H - hs - hw, width: bw - 2, height: hw, class: 'bar-wa' }));
    if ((i + 1) % 5 === 0 || i === 0) {
      s.append(svg('text', { x: x + bw / 2, y: H + 16, class: 'axis', 'text-anchor': 'middle' }, i + 1));
    }
  });
  return s;
}

function barsChart(rows) {
  const W = 640; const rowH = 22;
  const max = Math.max(1, ...rows.map((r) => r.count));
  const s = svg('svg', { viewBox: `0 0 ${W} ${rows.length * rowH + 4}`, class: 'chart', role: 'img' });
  s.append(svg('title', {}, 'Percakapan per kategori'));
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const w = ((W - 260) * r.count) / max;
    s.append(svg('text', { x: 0, y: y + 15, class: 'label' }, r.label));
    s.append(svg('rect', { x: 200, y, width: w, height: rowH - 6, class: 'bar-cat' }));
    s.append(svg('text', { x: 206 + w, y: y + 14, class: 'axis' }, r.count));
  });
  return s;
}

function table(id, heads, rows) {
  const t = el('table', 'report-table');
  t.id = id;
  const tr = el('tr');
  heads.forEach((h) => tr.append(el('th', '', h)));
  t.append(el('thead'));
  t.firstChild.append(tr);
  const tb = el('tbody');
  for (const r of rows) {
    const row = el('tr');
    r.forEach((v) => row.append(el('td', typeof v === 'number' ? 'num' : '', v)));
    tb.append(row);
  }
  t.append(tb);
  return t;
}

function sum(days, k) { return days.reduce((a, d) => a + d[k], 0); }

function render(r) {
  const out = $('r-body');
  const days = r.days;
  const totals = ['sms_in', 'sms_out', 'wa_in', 'wa_out'].map((k) => sum(days, k));
  const t = r.tickets;
  const sv = r.satisfaction;
  const cats = r.categories.map((c) => ({ label: categoryLabel(c.category) || 'Tanpa kategori', count: c.count }));
  out.replaceChildren(
    el('h3', '', `Pesan per hari — ${monthTitle(r.month)}`),
    dayChart(days),
    el('p', 'legend muted', 'Biru: SMS · Hijau: WhatsApp (masuk dan keluar)'),
    table('r-totals', ['', 'SMS masuk', 'SMS keluar', 'WA masuk', 'WA keluar'], [['Jumlah sebulan', ...totals]]),
    table('r-days', ['Tanggal', 'SMS masuk', 'SMS keluar', 'WA masuk', 'WA keluar'],
      days.map((d) => [d.date, d.sms_in, d.sms_out, d.wa_in, d.wa_out])),
    el('h3', '', 'Percakapan per kategori'),
    barsChart(cats),
    table('r-cats', ['Kategori', 'Percakapan'], cats.map((c) => [c.label, c.count])),
    el('h3', '', 'Tiket'),
    table('r-tickets', ['Dibuka', 'Selesai', 'Selesai tepat waktu', 'Persen tepat waktu'],
      [[t.opened, t.closed, t.closed_in_time, `${t.percent_in_time}%`]]),
    el('h3', '', 'Tanggapan pertama petugas (median)'),
    table('r-staff', ['Petugas', 'Percakapan', 'Median (menit)'],
      r.first_response.map((f) => [f.user, f.count, f.median_minutes])),
    el('h3', '', 'Konfirmasi Ketua RT'),
    table('r-rt', ['Diminta', 'Dijawab', 'Dibenarkan', 'Ditolak', 'Kedaluwarsa', 'Median jawaban (menit)'],
      [[r.rt.asked, r.rt.answered, r.rt.approved, r.rt.rejected, r.rt.expired, r.rt.median_minutes]]),
    el('h3', '', 'Kepuasan warga (nilai 1-5)'),
    table('r-survey', ['Ditanya', 'Menjawab', 'Rata-rata', 'Nilai 1', 'Nilai 2', 'Nilai 3', 'Nilai 4', 'Nilai 5'],
      [[sv.asked, sv.answered, sv.answered ? (sv.average_tenths / 10).toLocaleString('id-ID') : '-',
        sv.s1, sv.s2, sv.s3, sv.s4, sv.s5]]),
  );
  $('r-csv').href = `/api/v1/reports/csv?month=${r.month}`;
  $('r-csv').download = `laporan-simpul-${r.month}.csv`;
  out.dataset.month = r.month;
  fillMonths(r.month);
}

// The shown month and the 23 before it (at least; a later month stays).
function fillMonths(shown) {
  const pick = $('r-month');
  const latest = pick.dataset.latest && pick.dataset.latest > shown ? pick.dataset.latest : shown;
  pick.dataset.latest = latest;
  let [y, m] = latest.split('-').map(Number);
  const opts = [];
  for (let i = 0; i < 24; i++) {
    const v = `${y}-${String(m).padStart(2, '0')}`;
    const o = el('option', '', monthTitle(v));
    o.value = v;
    opts.push(o);
    m -= 1;
    if (!m) { m = 12; y -= 1; }
  }
  pick.replaceChildren(...opts);
  pick.value = shown;
}

function build(v) {
  v.dataset.built = '1';
  const bar = el('div', 'report-bar');
  const back = el('a', 'button no-print', '‹ Kotak masuk');
  back.href = '#/';
  const label = el('label', '', 'Bulan ');
  // A list of months rather than <input type=month>, which Chromium
  // labels in the browser's language, not the office's.
  const pick = el('select');
  pick.id = 'r-month';
  label.append(pick);
  const csv = el('a', 'button', 'Unduh CSV');
  csv.id = 'r-csv';
  const print = el('button', 'no-print', 'Cetak');
  print.type = 'button';
  print.addEventListener('click', () => window.print());
  bar.append(back, label, csv, print);
  const body = el('div', 'report');
  body.id = 'r-body';
  v.append(el('h2', '', 'Laporan bulanan'), bar, body);
  pick.addEventListener('change', () => load());
}

async function load() {
  // No month yet: the daemon's own month (its clock is the office's).
  const m = $('r-month').value;
  try {
    render(await api('GET', `/api/v1/reports${m ? `?month=${encodeURIComponent(m)}` : ''}`));
  } catch (e) {
    failed(e, $('r-month'));
  }
}

export async function showReports() {
  const v = $('reports-view');
  if (!v.dataset.built) build(v);
  await load();
}
