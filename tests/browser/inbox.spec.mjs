// Browser test of the staff inbox: Debian's chromium driven headless by
// playwright-core. Run by tests/integration/test_browser.py, which starts
// simpuld, the modem simulator and the fake Graph API, seeds a month for
// the report, and passes:
//   SIMPUL_URL, SIMPUL_USER, SIMPUL_PASSWORD, SIM_CTL (simulator control
//   socket), ARTIFACTS (directory for screenshots), CHROMIUM (binary),
//   SIMPUL_PID (the daemon, stopped at the end for the banner), SEEDED
//   (what the seeded month holds).
// Prints "N passed, N failed" and exits non-zero on failure.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const URL = process.env.SIMPUL_URL;
const USER = process.env.SIMPUL_USER;
const PASSWORD = process.env.SIMPUL_PASSWORD;
const SIM_CTL = process.env.SIM_CTL;
const ARTIFACTS = process.env.ARTIFACTS;
const SEEDED = JSON.parse(process.env.SEEDED || '{}');
const XSS = '<img src=x onerror=alert(1)>';
const PHONE = { width: 360, height: 740 };
const PC = { width: 1366, height: 800 };

// English (and jargon) a clerk must never read. Words, matched whole,
// case-insensitive, in the visible text and in placeholders and labels.
const FOREIGN = [
  'failed', 'fetch', 'error', 'such', 'conversation', 'system', 'simpulctl',
  'loading', 'submit', 'cancel', 'delete', 'search', 'reply', 'send', 'sent',
  'queued', 'received', 'delivered', 'unread', 'attachment', 'settings',
  'logout', 'login', 'password', 'username', 'warning', 'null', 'undefined',
  'nan', 'ucs-2', 'ucs2', 'gsm', 'rt.ini', 'inbox', 'required', 'invalid',
  'status code', 'http', 'json', 'true', 'false', 'none', 'unknown', 'the',
  'and', 'not', 'found', 'please', 'save', 'close', 'open', 'new', 'report',
];
// category slugs ("layanan/ktp") are codes, not words
const SLUG = /\b(layanan|pengaduan|info|rt)\/[a-z]+/;

function simCtl(line) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(SIM_CTL);
    let data = '';
    s.on('connect', () => s.write(`${line}\n`));
    s.on('data', (d) => {
      data += d;
      if (data.endsWith('\n')) s.end();
    });
    s.on('end', () => {
      const r = data.trim();
      if (!r.startsWith('OK')) reject(new Error(`sim: ${line}: ${r}`));
      else resolve(r.slice(2).trim());
    });
    s.on('error', reject);
  });
}

async function waitFor(pred, what, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push([name, null]);
    console.log(`ok - ${name}`);
  } catch (e) {
    results.push([name, e]);
    console.log(`FAIL - ${name}\n${e.stack}`);
    throw e; // later steps depend on this one
  }
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'simpul-chromium-'));
// A fresh profile directory each run (playwright passes --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: PC,
  acceptDownloads: true,
});
const dialogs = [];
const page = browser.pages()[0] || await browser.newPage();
page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
const item = (text) => page.locator('#conv-list .conv-item', { hasText: text });
const box = (name) => page.click(`#boxes .box[data-box="${name}"]`);
const size = () => page.viewportSize().width;
const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}-${size()}.png`) });

// Every text the clerk can see, plus placeholders, titles and labels.
async function visibleWords() {
  return page.evaluate(() => {
    const out = [document.body.innerText];
    for (const e of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
      if (e.offsetParent === null && e !== document.body) continue;
      out.push(e.getAttribute('placeholder') || '', e.getAttribute('title') || '',
        e.getAttribute('aria-label') || '');
    }
    for (const o of document.querySelectorAll('select')) {
      if (o.offsetParent !== null) out.push(...[...o.options].map((x) => x.textContent));
    }
    return out.join('\n');
  });
}

const seen = new Set();
async function checkWords(view) {
  const raw = await visibleWords();
  const text = raw.toLowerCase();
  const bad = FOREIGN.filter((w) => new RegExp(`(^|[^a-z0-9-])${w.replace('.', '\\.')}($|[^a-z0-9-])`).test(text));
  assert.deepEqual(bad, [], `English or jargon in "${view}": ${bad.join(', ')}`);
  assert.ok(!SLUG.test(raw), `a category code in "${view}": ${raw.match(SLUG)}`);
  seen.add(view);
}

// Every control a finger must hit, and every text, on the current view.
async function checkPhoneSizes(view) {
  const r = await page.evaluate(() => {
    const small = [];
    const tiny = [];
    for (const e of document.querySelectorAll('button, select, input, textarea, a.button, summary, .box')) {
      const b = e.getBoundingClientRect();
      if (!b.width || e.closest('[hidden]') || getComputedStyle(e).visibility === 'hidden') continue;
      if (e.type === 'checkbox') continue;
      if (b.height < 44) small.push(`${e.id || e.className || e.tagName} ${Math.round(b.height)}px`);
    }
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (!n.textContent.trim()) continue;
      const p = n.parentElement;
      if (!p || !p.getClientRects().length || p.closest('svg')) continue;
      const fs = parseFloat(getComputedStyle(p).fontSize);
      if (fs < 14) tiny.push(`${p.tagName}.${p.className} "${n.textContent.trim().slice(0, 20)}" ${fs}px`);
    }
    return { small, tiny };
  });
  assert.deepEqual(r.small, [], `touch targets under 44 px in "${view}"`);
  assert.deepEqual(r.tiny, [], `text under 14 px in "${view}"`);
}

async function noSideways(view) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= size(), `no sideways scrolling in "${view}" (width ${w})`);
}

// One pass over every view at the current size: screenshots, words,
// and on a phone the sizes.
async function walkViews() {
  const phone = size() < 700;
  const check = async (view) => {
    await shot(view);
    await checkWords(view);
    await noSideways(view);
    if (phone) await checkPhoneSizes(view);
  };
  await page.goto(`${URL}/#/`);
  await page.locator('body[data-ready="1"]').waitFor();
  await box('kerja');
  await item('Sari').waitFor();
  await check('baru');
  await box('otomatis');
  await item('+6281300000011').waitFor();
  await check('otomatis');
  await box('lainnya');
  await item('TELKOMSEL').waitFor();
  await check('lainnya');
  await box('kerja');
  await item('Sari').click();
  await page.locator('#timeline .msg-in').first().waitFor();
  await check('percakapan');
  await page.click('#tools-toggle');
  await page.locator('#tools').waitFor();
  await check('tindakan');
  await page.click('#c-contact');
  await page.locator('#k-convs .conv-item').first().waitFor();
  await check('warga');
  await page.click('#nav-reports');
  await page.locator('#r-body[data-month]').waitFor();
  await check('laporan');
  await page.click('#nav-users');
  await page.locator('#u-list .user-row').first().waitFor();
  await check('pengguna');
  await page.click('#nav-announce');
  await page.locator('#ann').waitFor();
  await check('pengumuman');
  await page.click('#nav-inbox');
}

try {
  await step('the inbox asks for a login first', async () => {
    await page.goto(`${URL}/`);
    await page.waitForURL(/\/login$/);
    await page.fill('#user', USER);
    await page.fill('#password', 'salah-sandi');
    await page.click('#login-submit');
    await page.locator('#login-error').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#login-error'), /salah/);
    await page.fill('#password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForURL(`${URL}/`);
    await page.locator('.conv-item').first().waitFor();
    assert.equal(await page.textContent('#me'), USER);
  });

  await step('no toolbar or reply box before a conversation is chosen', async () => {
    assert.equal(await page.locator('#reply-form').isVisible(), false);
    assert.equal(await page.locator('#tools-toggle').isVisible(), false);
    assert.equal(await page.locator('#empty').isVisible(), true);
  });

  await step('the queue holds work only', async () => {
    await item('Rina').waitFor();
    // the question the rules answered and the promo are elsewhere
    assert.equal(await item('+6281300000011').count(), 0);
    assert.equal(await item('TELKOMSEL').count(), 0);
    await box('otomatis');
    await item('+6281300000011').waitFor();
    assert.match(await item('+6281300000011').textContent(), /jam buka kantor kapan\?/);
    assert.match(await item('+6281300000011').textContent(), /Dijawab otomatis/);
    await box('lainnya');
    await item('TELKOMSEL').waitFor();
    assert.equal(await item('Rina').count(), 0);
    await box('kerja');
    await item('Rina').waitFor();
    // the tab title counts the new conversations
    await waitFor(async () => /^\(\d+\) /.test(await page.title()), 'count in title');
  });

  await step('SMS and WhatsApp of one resident are one conversation', async () => {
    const rina = item('Rina');
    assert.equal(await rina.count(), 1);
    assert.equal(await rina.locator('.chan-sms').count(), 1);
    assert.equal(await rina.locator('.chan-whatsapp').count(), 1);
    await rina.click();
    const bodies = page.locator('#timeline .msg-in .body');
    await waitFor(async () => (await bodies.count()) >= 2, 'both messages');
    const texts = await bodies.allTextContents();
    assert.deepEqual(texts.filter((t) => t.startsWith('Halo dari')),
      ['Halo dari WA', 'Halo dari SMS']); // time order across channels
    assert.match(await page.textContent('#reply-channel'), /SMS/);
  });

  const replyText = `Berkas Bu Rina sudah kami terima ${Date.now() % 100000}`;
  await step('a reply leaves through the modem', async () => {
    await page.fill('#reply-text', replyText);
    await waitFor(async () => /1 SMS/.test(await page.textContent('#reply-count')), 'segment count');
    await page.click('#reply-send');
    const mine = page.locator('#timeline .msg-out', { hasText: replyText });
    await mine.waitFor();
    await waitFor(async () => (await simCtl('sent')).includes(replyText),
      'the SMS in the simulator', 60000);
    // The delivery status comes back to the page without a reload.
    await waitFor(async () => /terkirim|sampai/.test(
      await mine.locator('.msg-status').textContent()), 'status terkirim', 30000);
    await page.locator('#toast').waitFor({ state: 'visible' });
  });

  await step('emoji warn in plain words', async () => {
    await page.fill('#reply-text', 'Terima kasih 🙏');
    await page.locator('#reply-warn').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#reply-warn'), /emoji atau huruf khusus: 1 SMS = 70 huruf/);
    await page.fill('#reply-text', '');
  });

  await step('a new SMS appears without a reload', async () => {
    await simCtl('sms +6281900000002 Permisi, lampu jalan RT 4 mati');
    await item('+6281900000002').waitFor({ timeout: 60000 });
  });

  await step("a Ketua RT's YA opens no new work", async () => {
    await item('Rina').click();
    await page.click('#tools-toggle');
    await page.fill('#c-rt', '003/005');
    await page.click('#c-rt-save');
    await page.click('#c-rt-ask');
    const req = page.locator('#rt-list .rt-req').first();
    await req.waitFor();
    const line = await req.textContent();
    assert.match(line, /Pak Budi, Ketua RT 03 RW 05/);
    assert.match(line, /menunggu jawaban/);
    assert.equal(await page.isDisabled('#c-rt-ask'), true); // one open at a time
    const code = line.match(/kode (\d{6})/)[1];
    // The head gets the code by SMS and answers by SMS.
    await waitFor(async () => JSON.parse(await simCtl('sent')).some(
      (m) => m.to === '+6281299990001' && m.text.includes(code)),
    'the SMS to the Ketua RT', 60000);
    await simCtl(`sms +6281299990001 YA ${code}`);
    await waitFor(async () => /disetujui/.test(await req.textContent()),
      'the answer in the inbox', 60000);
    assert.equal(await page.isDisabled('#c-rt-ask'), false);
    await page.click('#tools-toggle');
    // The head's answer is a record, not work.
    await box('otomatis');
    await item(`YA ${code}`).waitFor();
    await box('kerja');
    await item('Rina').waitFor();
    assert.equal(await item(`YA ${code}`).count(), 0);
    assert.equal(await item('Pak Budi').count(), 0);
  });

  await step('people are found by number and by name', async () => {
    for (const q of ['0813555', '+62 813 555', 'sari wulan']) {
      await page.fill('#f-q', q);
      await waitFor(async () => (await page.locator('#conv-list .conv-item').count()) === 1
        && (await item('Sari Wulandari').count()) === 1, `search ${q}`);
    }
    await page.fill('#f-q', '');
    await item('Rina').waitFor();
  });

  await step('Tindakan clicked while a conversation loads acts on that one', async () => {
    // A slow list fetch widens the gap between the click on a conversation
    // and its arrival; a clerk's next click falls in it.
    const slow = async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); };
    await page.route('**/api/v1/conversations?*', slow);
    try {
      await item('+6281900000002').click();
      await page.click('#tools-toggle');
      await waitFor(async () => (await page.textContent('#c-name')).includes('+6281900000002'),
        'the chosen conversation shown');
      await page.waitForTimeout(2000); // past the slow list fetch
      assert.equal(await page.locator('#tools').isVisible(), true, 'Tindakan stays open');
      assert.equal(await page.getAttribute('#c-contact', 'href'),
        await page.getAttribute('#c-name', 'href'), 'the tools are for the conversation shown');
    } finally {
      await page.unroute('**/api/v1/conversations?*', slow);
    }
    await page.click('#tools-toggle');
  });

  await step('staff give a resident a name', async () => {
    // Rina's page first: the form then holds her while the next contact
    // loads, and that load is slowed so the clerk types in the gap.
    await item('Rina').click();
    await page.click('#tools-toggle');
    await page.click('#c-contact');
    await waitFor(async () => (await page.textContent('#k-title')).includes('Rina'), "Rina's page");
    await page.click('#nav-inbox');
    const slow = async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue(); };
    await page.route('**/api/v1/contacts/*', slow);
    try {
      await item('+6281900000002').click();
      await page.click('#tools-toggle');
      await page.click('#c-contact');
      await page.locator('#k-form').waitFor();
      await page.fill('#k-name', 'Pak Darto');
      await page.fill('#k-rt', '004');
      await page.click('#k-save');
      await page.locator('#toast', { hasText: 'disimpan' }).waitFor();
      await page.waitForTimeout(2000); // past the slow contact fetch
      const title = await page.textContent('#k-title');
      assert.ok(title.includes('Pak Darto'), `the new name is on the page: ${title}`);
      assert.ok((await page.textContent('#k-numbers')).includes('81900000002'),
        'the page is the resident that was named');
    } finally {
      await page.unroute('**/api/v1/contacts/*', slow);
    }
    await page.click('#nav-inbox');
    await item('Pak Darto').waitFor();
    await page.fill('#f-q', 'darto');
    await waitFor(async () => (await page.locator('#conv-list .conv-item').count()) === 1, 'by the new name');
    await page.fill('#f-q', '');
  });

  await step('resolve closes the conversation', async () => {
    await item('Rina').click();
    await page.click('#tools-toggle');
    await page.click('#c-resolve');
    await page.locator('#toast', { hasText: 'diselesaikan' }).waitFor();
    await waitFor(async () => (await page.inputValue('#c-status')) === 'selesai', 'status selesai');
    await waitFor(async () => (await item('Rina').count()) === 0, 'Rina leaves the queue');
  });

  await step('markup in messages is shown as text and runs nothing', async () => {
    const x = item('+6281900000009');
    await x.waitFor();
    await x.click();
    const b = page.locator('#timeline .msg-in .body');
    await waitFor(async () => (await b.allTextContents()).filter((t) => t === XSS).length === 2,
      'both XSS bodies as text');
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.deepEqual(dialogs, []);
    await waitFor(async () => (await x.locator('.unread').count()) === 0, 'unread badge cleared', 15000);
  });

  await step('the report shows the seeded month, the CSV the same numbers', async () => {
    await page.click('#nav-reports');
    await page.locator('#r-body[data-month]').waitFor();
    await page.selectOption('#r-month', SEEDED.month);
    await page.locator(`#r-body[data-month="${SEEDED.month}"]`).waitFor();
    const cells = await page.locator('#r-totals tbody td').allTextContents();
    assert.equal(Number(cells[3]), SEEDED.wa_in, `WA masuk ${cells}`);
    assert.equal(Number(cells[1]), 0, 'no SMS that month');
    const days = await page.locator('#r-days tbody tr').evaluateAll((rows) => rows.map(
      (r) => [...r.children].map((td) => td.textContent)));
    assert.equal(days.length, 31);
    for (const [date, n] of Object.entries(SEEDED.days)) {
      assert.equal(Number(days.find((d) => d[0] === date)[3]), n, date);
    }
    assert.equal(await page.locator('#r-body svg.chart').count(), 2);
    const href = await page.getAttribute('#r-csv', 'href');
    const csv = await (await page.request.get(`${URL}${href}`)).text();
    const lines = csv.split('\r\n');
    const dayRows = lines.slice(lines.indexOf('Pesan per hari') + 2, lines.indexOf('Pesan per hari') + 33)
      .map((l) => l.split(','));
    assert.deepEqual(dayRows, days, 'CSV days = page days');
    const tk = lines[lines.indexOf('Tiket') + 2].split(',');
    const pageTk = await page.locator('#r-tickets tbody td').allTextContents();
    assert.deepEqual(tk.slice(0, 3), pageTk.slice(0, 3), 'CSV tickets = page tickets');
    const cats = await page.locator('#r-cats tbody tr').count();
    assert.ok(cats >= 1, 'categories of the month');
    await page.click('#nav-inbox');
  });

  await step('an admin previews and sends an announcement to one RT', async () => {
    await simCtl('sms +6281900000004 DAFTAR RT 03');
    await waitFor(async () => JSON.parse(await simCtl('sent')).some(
      (m) => m.to === '+6281900000004' && /terdaftar/.test(m.text)),
    'the confirmation SMS', 60000);
    await page.click('#nav-announce');
    await page.locator('#ann').waitFor();
    await page.fill('#ann-audience', 'RT 03');
    await page.fill('#ann-text', 'Kerja bakti RT 03 hari Minggu pukul 07.00.');
    await page.click('#ann-check');
    await waitFor(async () => /1 penerima \(SMS 1, WhatsApp 0\), 1 segmen/.test(
      await page.textContent('#ann-preview')), 'the preview');
    assert.equal(await page.isDisabled('#ann-send'), false);
    await page.click('#ann-send');
    const a = page.locator('#ann-list .ann-item').first();
    await a.waitFor();
    assert.match(await a.textContent(), /rt:03 · 1 penerima/);
    await page.click('#nav-inbox');
  });

  for (const vp of [PC, PHONE]) {
    await step(`every view at ${vp.width} px: plain Indonesian, screenshots`, async () => {
      await page.setViewportSize(vp);
      await walkViews();
    });
  }

  await step('at 360 px the thread keeps at least 60 % of the screen', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${URL}/#/`);
    await page.locator('body[data-ready="1"]').waitFor();
    await item('Pak Darto').click(); // writes by SMS: the warning applies
    await page.locator('#reply-text').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#list-pane').isVisible(), false);
    const share = async () => (await page.locator('#timeline').boundingBox()).height / PHONE.height;
    assert.ok(await share() >= 0.6, `thread ${await share()}`);
    await page.fill('#reply-text', 'Baik 🙏');
    await page.locator('#reply-warn').waitFor({ state: 'visible' });
    assert.ok(await share() >= 0.6, `thread with the warning ${await share()}`);
    // the tools lie over the thread and do not take its room
    await page.click('#tools-toggle');
    assert.ok(await share() >= 0.6, `thread with the tools ${await share()}`);
    await page.click('#tools-toggle');
    await page.fill('#reply-text', '');
    await page.click('#back');
    await item('Pak Darto').waitFor();
  });

  await step('no script errors on the page', async () => {
    assert.deepEqual(pageErrors, []);
  });

  await step('ten tabs: every one is updated live, none starves', async () => {
    // Ten tabs over HTTP/1.1 would need ten connections for ten streams;
    // a browser gives one host six. The tabs share one stream.
    await page.setViewportSize(PC);
    await page.goto(`${URL}/#/`);
    await page.locator('body[data-ready="1"]').waitFor();
    const tabs = [];
    for (let i = 0; i < 9; i++) {
      const p = await browser.newPage();
      await p.goto(`${URL}/#/`);
      await p.locator('body[data-ready="1"]').waitFor();
      tabs.push(p);
    }
    await simCtl('sms +6281900000077 Ada pohon tumbang di jalan RT 1');
    for (const p of [page, ...tabs]) {
      await p.locator('#conv-list .conv-item', { hasText: '+6281900000077' })
        .waitFor({ timeout: 60000 });
    }
    for (const p of tabs) await p.close();
  });

  for (const vp of [PC, PHONE]) {
    await step(`with the daemon stopped the banner shows (${vp.width} px)`, async () => {
      await page.setViewportSize(vp);
      if (vp === PC) {
        await item('Sari').click();
        await page.locator('#reply-text').waitFor({ state: 'visible' });
        process.kill(Number(process.env.SIMPUL_PID), 'SIGTERM');
      }
      await page.locator('#conn-banner').waitFor({ state: 'visible', timeout: 30000 });
      assert.match(await page.textContent('#conn-banner'), /Tidak tersambung/);
      if (vp === PC) {
        await page.fill('#reply-text', 'Akan kami proses');
        await page.click('#reply-send');
        await page.locator('#toast', { hasText: 'belum dikirim' }).waitFor();
        assert.equal(await page.inputValue('#reply-text'), 'Akan kami proses');
      }
      await shot('terputus');
      await checkWords('terputus');
    });
  }
} catch (e) {
  await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => {});
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

const failed = results.filter(([, e]) => e).length;
const passed = results.length - failed;
const expected = 22; // every step below, the looped ones counted once per pass
const missing = expected - results.length;
console.log(`${passed} passed, ${failed + missing} failed; views checked: ${[...seen].join(' ')}`);
process.exit(failed + missing ? 1 : 0);
