// The admin's announcement page: preview (recipients per channel, SMS
// segments and cost against the SIM's last known credit), send, and each
// announcement's delivery counts. Shown to admins only; the API checks.
import { $, api, el, AuthError, session } from './net.js';

const rp = (n) => `Rp ${Number(n).toLocaleString('id-ID')}`;
let list = async () => {};

// The page at #/pengumuman: the list of announcements, fresh.
export async function showAnnounce() {
  await list();
}

export function initAnnounce() {
  const user = session.user;

  function body() {
    return { text: $('ann-text').value.trim(), audience: $('ann-audience').value.trim() };
  }
  function error(msg) {
    $('ann-error').textContent = msg;
    $('ann-error').hidden = !msg;
  }
  list = async function () {
    const ul = $('ann-list');
    ul.replaceChildren();
    for (const a of await api('GET', '/api/v1/announcements')) {
      const li = el('li', 'ann-item');
      li.append(el('div', 'body', a.body));
      const waiting = a.state === 'menunggu_persetujuan';
      li.append(el('div', 'muted', waiting
        ? `${a.audience} · menunggu persetujuan admin kedua · oleh ${a.created_by || '-'}`
        : `${a.audience} · ${a.recipients} penerima · antre ${a.queued || 0}, ` +
          `terkirim ${a.sent || 0}, sampai ${a.delivered || 0}, gagal ${a.failed || 0}` +
          ` · oleh ${a.created_by || '-'}${a.approved_by ? `, disetujui ${a.approved_by}` : ''}`));
      if (waiting && a.created_by !== user) {
        const b = el('button', 'ann-approve', 'Setujui dan kirim');
        b.type = 'button';
        b.addEventListener('click', async () => {
          b.disabled = true;
          try {
            await api('POST', `/api/v1/announcements/${a.id}/approve`);
            await list();
          } catch (e) {
            b.disabled = false;
            if (!(e instanceof AuthError)) error(e.message);
          }
        });
        li.append(b);
      }
      ul.append(li);
    }
  };
  async function preview() {
    error('');
    $('ann-send').disabled = true;
    try {
      const p = await api('POST', '/api/v1/announcements', { ...body(), preview: true });
      const credit = p.credit >= 0 ? `, pulsa terakhir ${rp(p.credit)}` : '';
      $('ann-preview').textContent =
        `${p.recipients} penerima (SMS ${p.sms}, WhatsApp ${p.whatsapp}), ` +
        `${p.segments} segmen SMS, biaya SMS ± ${rp(p.sms_cost)}${credit}`;
      $('ann-send').disabled = p.recipients === 0 || (p.credit >= 0 && p.sms_cost > p.credit);
    } catch (e) {
      if (!(e instanceof AuthError)) error(e.message);
    }
  }

  $('ann-check').addEventListener('click', preview);
  for (const id of ['ann-text', 'ann-audience']) {
    $(id).addEventListener('input', () => { $('ann-send').disabled = true; });
  }
  $('ann-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('ann-send').disabled = true;
    try {
      const a = await api('POST', '/api/v1/announcements', body());
      $('ann-preview').textContent = a.state === 'menunggu_persetujuan'
        ? `${a.recipients} penerima: menunggu persetujuan admin kedua.`
        : `Dikirim ke antrean: ${a.recipients} penerima. Tidak dikirim pukul 21.00–06.00.`;
      $('ann-text').value = '';
      await list();
    } catch (e) {
      if (!(e instanceof AuthError)) error(`Pengumuman tidak terkirim: ${e.message}`);
    }
  });
}
