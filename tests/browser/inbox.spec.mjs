// Browser test of the staff inbox: Debian's chromium driven headless by
// playwright-core. Run by tests/integration/test_browser.py, which starts
// simpuld, the modem simulator and the fake Graph API and passes:
//   SIMPUL_URL, SIMPUL_USER, SIMPUL_PASSWORD, SIM_CTL (simulator control
//   socket), ARTIFACTS (directory for screenshots), CHROMIUM (binary).
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
const XSS = '<img src=x onerror=alert(1)>';

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
  viewport: { width: 1280, height: 800 },
});
const dialogs = [];
const page = browser.pages()[0] || await browser.newPage();
page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, name) });
const item = (text) => page.locator('.conv-item', { hasText: text });

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

  await step('SMS and WhatsApp of one resident are one conversation', async () => {
    const rina = item('Rina');
    await rina.waitFor();
    assert.equal(await rina.count(), 1);
    assert.equal(await rina.locator('.chan-sms').count(), 1);
    assert.equal(await rina.locator('.chan-whatsapp').count(), 1);
    await shot('list-1280.png');
    await rina.click();
    const bodies = page.locator('#timeline .msg-in .body');
    await waitFor(async () => (await bodies.count()) >= 2, 'both messages');
    const texts = await bodies.allTextContents();
    assert.deepEqual(texts.filter((t) => t.startsWith('Halo dari')),
      ['Halo dari WA', 'Halo dari SMS']); // time order across channels
    assert.match(await page.textContent('#reply-channel'), /SMS/);
    await shot('conversation-1280.png');
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
  });

  await step('the UCS-2 warning shows', async () => {
    await page.fill('#reply-text', 'Terima kasih 🙏');
    await page.locator('#reply-warn').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#reply-warn'), /UCS-2/);
    await page.fill('#reply-text', '');
  });

  await step('a new SMS appears without a reload', async () => {
    await simCtl('sms +6281900000002 Permisi, lampu jalan RT 4 mati');
    await item('+6281900000002').waitFor({ timeout: 60000 });
  });

  await step('a clerk asks the Ketua RT and sees the answer', async () => {
    await item('Rina').click();
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
  });

  await step('resolve closes the conversation', async () => {
    await item('Rina').click();
    await page.click('#c-resolve');
    await waitFor(async () => (await page.inputValue('#c-status')) === 'selesai', 'status selesai');
    // The default filter shows open conversations only.
    await waitFor(async () => (await item('Rina').count()) === 0, 'Rina leaves the open list');
    await page.selectOption('#f-status', 'selesai');
    await item('Rina').waitFor();
    await page.selectOption('#f-status', 'open');
  });

  await step('markup in messages is shown as text and runs nothing', async () => {
    const x = item('+6281900000009');
    await x.waitFor();
    await x.click();
    const b = page.locator('#timeline .msg-in .body');
    await waitFor(async () => (await b.allTextContents()).filter((t) => t === XSS).length === 2,
      'both XSS bodies as text');
    assert.equal(await page.locator('#timeline img[src="x"]').count(), 0);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    await page.waitForTimeout(500);
    assert.deepEqual(dialogs, []);
    // Opened means read: the unread badge goes away.
    await waitFor(async () => (await x.locator('.unread').count()) === 0, 'unread badge cleared', 15000);
  });

  await step('phone width 360 px', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.click('#back');
    await item('+6281900000002').waitFor();
    await shot('list-360.png');
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `no sideways scrolling (width ${w})`);
    await item('+6281900000002').click();
    await page.locator('#reply-text').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#list-pane').isVisible(), false);
    await shot('conversation-360.png');
    const w2 = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w2 <= 360, `no sideways scrolling in a conversation (width ${w2})`);
  });

  await step('no script errors on the page', async () => {
    assert.deepEqual(pageErrors, []);
  });

  await step('logout ends the session', async () => {
    await page.click('#logout');
    await page.waitForURL(/\/login$/);
    const r = await page.request.get(`${URL}/api/v1/conversations`);
    assert.equal(r.status(), 401);
  });
} catch (e) {
  await shot('failure.png').catch(() => {});
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

const failed = results.filter(([, e]) => e).length;
const passed = results.length - failed;
const expected = 11;
const missing = expected - results.length;
console.log(`${passed} passed, ${failed + missing} failed`);
process.exit(failed + missing ? 1 : 0);
