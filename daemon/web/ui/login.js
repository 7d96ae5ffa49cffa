// The login page: POST /api/v1/login as JSON, then go to the inbox.
const form = document.getElementById('login-form');
const err = document.getElementById('login-error');

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  err.hidden = true;
  const body = {
    user: document.getElementById('user').value.trim(),
    password: document.getElementById('password').value,
  };
  let r;
  try {
    r = await fetch('/api/v1/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    });
  } catch (e) {
    err.textContent = 'Server tidak dapat dihubungi. Coba lagi.';
    err.hidden = false;
    return;
  }
  if (r.ok) {
    window.location.assign('/');
    return;
  }
  // The daemon's own words are Indonesian for 401 and 429; anything
  // else gets a plain sentence.
  let msg = r.status === 400 ? 'Isi nama pengguna dan kata sandi.' : 'Gagal masuk. Coba lagi.';
  if (r.status === 401 || r.status === 429) {
    try {
      const j = await r.json();
      if (j.error) msg = j.error;
    } catch (e) { /* keep the generic message */ }
  }
  err.textContent = msg;
  err.hidden = false;
});
