// Staff accounts for admins: list, add, disable, new password. The same
// API as `simpulctl user ...` (POST /api/v1/users).
import { $, api, el, toast, failed, session } from './net.js';

const ROLE = { admin: 'Admin', staff: 'Petugas' };

function form() {
  const f = el('form', 'form-grid');
  f.id = 'u-form';
  const name = el('input');
  name.id = 'u-name';
  name.maxLength = 60;
  name.autocomplete = 'off';
  const role = el('select');
  role.id = 'u-role';
  for (const [v, t] of Object.entries(ROLE)) {
    const o = el('option', '', t);
    o.value = v;
    role.append(o);
  }
  role.value = 'staff';
  const pw = el('input');
  pw.id = 'u-password';
  pw.type = 'password';
  pw.autocomplete = 'new-password';
  pw.minLength = 8;
  const l1 = el('label', '', 'Nama pengguna ');
  l1.append(name);
  const l2 = el('label', '', 'Peran ');
  l2.append(role);
  const l3 = el('label', '', 'Kata sandi (min. 8 huruf) ');
  l3.append(pw);
  const btn = el('button', 'primary', 'Tambah pengguna');
  btn.type = 'submit';
  btn.id = 'u-add';
  f.append(l1, l2, l3, btn);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/api/v1/users', { name: name.value.trim(), role: role.value, password: pw.value });
      toast(`Pengguna ${name.value.trim()} ditambahkan.`, btn);
      name.value = '';
      pw.value = '';
      await list();
    } catch (err) {
      failed(err, btn, 'Belum ditambahkan: ');
    }
  });
  return f;
}

async function resetPassword(u, btn) {
  const pw = window.prompt(`Kata sandi baru untuk ${u.name} (min. 8 huruf):`);
  if (!pw) return;
  try {
    await api('POST', '/api/v1/users', { name: u.name, role: u.role, password: pw, replace: true });
    toast(`Kata sandi ${u.name} diganti.`, btn);
  } catch (err) {
    failed(err, btn, 'Belum diganti: ');
  }
}

async function disable(u, btn) {
  if (!window.confirm(`Nonaktifkan ${u.name}? Ia tidak bisa masuk lagi.`)) return;
  try {
    await api('POST', `/api/v1/users/${encodeURIComponent(u.name)}/disable`, {});
    toast(`${u.name} dinonaktifkan.`, btn);
    await list();
  } catch (err) {
    failed(err, btn, 'Belum dinonaktifkan: ');
  }
}

async function list() {
  const users = await api('GET', '/api/v1/users');
  const ul = $('u-list');
  ul.replaceChildren(...users.map((u) => {
    const li = el('li', 'user-row');
    li.append(el('strong', '', u.name), el('span', 'muted', ROLE[u.role] || u.role));
    const reset = el('button', '', 'Ganti kata sandi');
    reset.type = 'button';
    reset.addEventListener('click', () => resetPassword(u, reset));
    li.append(reset);
    if (u.name !== session.user) {
      const off = el('button', '', 'Nonaktifkan');
      off.type = 'button';
      off.addEventListener('click', () => disable(u, off));
      li.append(off);
    }
    return li;
  }));
}

export async function showUsers() {
  const v = $('users-view');
  if (!v.dataset.built) {
    v.dataset.built = '1';
    const back = el('p');
    const a = el('a', 'button', '‹ Kotak masuk');
    a.href = '#/';
    back.append(a);
    const ul = el('ul', 'user-list');
    ul.id = 'u-list';
    v.append(back, el('h2', '', 'Pengguna'), ul, el('h3', '', 'Tambah pengguna'), form());
  }
  if (session.role !== 'admin') {
    toast('Hanya admin yang boleh mengatur pengguna.', $('nav-users'), 'error');
    return;
  }
  await list().catch((e) => failed(e, $('u-list')));
}
