// The browser driver's check of itself, against small local pages (no
// giftgated): that it passes a page that works, and fails, saying why, on
// each thing it is there to catch: a request to another origin (never
// sent), a blank screenshot, a missing element (within its time limit), an
// error the browser reports, a certificate the CA did not sign. And the PNG
// decoder against images encoded here with each of PNG's five row filters.
//
//   node selftest.mjs      exit 0 all passed, 1 a check failed, 77 no chromium
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { decodePng, pictureStats, notBlank } from './png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const chromiumPath = process.env.GIFTGATE_CHROMIUM || '/usr/bin/chromium';
let passed = 0, failed = 0;
function check(ok, what, detail = '') {
  if (ok) ++passed;
  else { ++failed; process.stderr.write(`selftest: FAILED: ${what} ${detail}\n`); }
}

// --- the PNG decoder, on images whose pixels are known -------------------

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; ++k) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type, body) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}
// A PNG of `pixels` (channels bytes each), row y filtered with filters[y % 5].
function encodePng(width, height, channels, pixels) {
  const stride = width * channels;
  const rows = [];
  for (let y = 0; y < height; ++y) {
    const filter = y % 5;
    const row = Buffer.alloc(stride + 1);
    row[0] = filter;
    for (let x = 0; x < stride; ++x) {
      const px = pixels[y * stride + x];
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = y > 0 && x >= channels ? pixels[(y - 1) * stride + x - channels] : 0;
      const paeth = () => {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      };
      const predicted = [0, a, b, (a + b) >> 1, paeth()][filter];
      row[x + 1] = (px - predicted) & 0xff;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 4 ? 6 : 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

for (const channels of [3, 4]) {
  const width = 7, height = 11;
  const pixels = Buffer.alloc(width * height * channels);
  // Not smooth, so every filter has both carries and borrows to get right.
  for (let i = 0; i < pixels.length; ++i) pixels[i] = (i * 73 + (i >> 3) * 151) & 0xff;
  const image = decodePng(encodePng(width, height, channels, pixels));
  check(image.width === width && image.height === height && image.channels === channels,
    `png: size of a ${channels}-channel image`);
  check(image.pixels.equals(pixels), `png: pixels of a ${channels}-channel image, all five filters`);
}
{
  // Blank and not blank, by the stats.
  const white = Buffer.alloc(20 * 20 * 3, 0xff);
  check(notBlank(pictureStats(decodePng(encodePng(20, 20, 3, white)))) !== null, 'png: a white image is blank');
  const drawn = Buffer.from(white);
  for (let i = 0; i < 60; ++i) drawn[i * 3] = 0, drawn[(200 + i) * 3 + 1] = 0;
  check(notBlank(pictureStats(decodePng(encodePng(20, 20, 3, drawn)))) === null, 'png: a drawn image is not blank');
  let refused = '';
  try { decodePng(encodePng(20, 20, 3, white).subarray(0, 40)); } catch (e) { refused = e.message; }
  check(/truncated|past the end/.test(refused), 'png: a cut-off file is refused', refused);
  try { decodePng(Buffer.from('GIF89a')); refused = ''; } catch (e) { refused = e.message; }
  check(/not a PNG/.test(refused), 'png: another format is refused', refused);
}

// --- the driver, against local pages --------------------------------------

if (!fs.existsSync(chromiumPath)) {
  process.stderr.write(`selftest: no chromium at ${chromiumPath}: the browser checks are skipped\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(failed ? 1 : 77);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gg-browser-selftest-'));
const certs = path.join(work, 'certs');
const otherCerts = path.join(work, 'other');
execFileSync(path.join(root, 'scripts/api-cert.sh'), [certs], { stdio: 'ignore' });
execFileSync(path.join(root, 'scripts/api-cert.sh'), [otherCerts], { stdio: 'ignore' });

// Another origin on loopback: if a request the driver should refuse were
// ever sent, it would arrive here, not anywhere outside.
let elsewhereHits = 0;
const elsewhere = http.createServer((q, r) => { ++elsewhereHits; r.end(); });
await new Promise((ok) => elsewhere.listen(0, '127.0.0.1', ok));
const elsewhereUrl = `http://127.0.0.1:${elsewhere.address().port}`;

const style = 'body{font:16px sans-serif;margin:2em;color:#123}h1{color:#a22}'
  + '.band{background:#2a6;height:80px;margin:1em 0}';
const pageOf = (body) => '<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>'
  + `<link rel="stylesheet" href="/style.css"></head><body>${body}</body></html>`;
const server = https.createServer({
  cert: fs.readFileSync(path.join(certs, 'server.pem')),
  key: fs.readFileSync(path.join(certs, 'server.key')),
}, (q, r) => {
  const send = (status, type, body, headers = {}) => {
    r.writeHead(status, { 'Content-Type': type, ...headers });
    r.end(body);
  };
  const url = new URL(q.url, 'https://x');
  if (url.pathname === '/style.css') return send(200, 'text/css', style);
  if (url.pathname === '/good' && q.method === 'GET') {
    const done = url.searchParams.get('who');
    return send(200, 'text/html; charset=utf-8', pageOf(
      '<h1>Desk</h1><div class="band"></div><p>中文标签</p>'
      + (done ? `<p id="done">Hello ${done.replace(/[<&>"]/g, '')}</p>` : '')
      + '<form id="f" method="post" action="/good"><input name="who"><select name="tier">'
      + '<option value="A">A</option><option value="B">B</option></select>'
      + '<button type="submit">Go</button></form><a class="csv" href="/data.csv">CSV</a>'));
  }
  if (url.pathname === '/good' && q.method === 'POST') {
    let body = '';
    q.on('data', (d) => { body += d; });
    return q.on('end', () => {
      const form = new URLSearchParams(body);
      send(303, 'text/plain', '', { Location: `/good?who=${encodeURIComponent(form.get('who') + form.get('tier'))}` });
    });
  }
  if (url.pathname === '/data.csv')
    return send(200, 'text/csv', 'day,issued\n2026-12-01,4\n', { 'Content-Disposition': 'attachment; filename="data.csv"' });
  if (url.pathname === '/foreign')
    return send(200, 'text/html', pageOf(`<h1>Foreign</h1><img src="${elsewhereUrl}/pixel.png">`));
  if (url.pathname === '/blank') return send(200, 'text/html', '<!DOCTYPE html><html><body></body></html>');
  if (url.pathname === '/refused')
    return send(200, 'text/html', pageOf('<h1>Refused</h1><script>document.title = "ran"</script>'),
      { 'Content-Security-Policy': "default-src 'self'" });
  return send(404, 'text/plain', 'no');
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `https://127.0.0.1:${server.address().port}`;

let run = 0;
// Runs the driver on `steps`; its exit status and its JSON line.
function drive(steps, extra = []) {
  const dir = path.join(work, `run-${++run}`);
  fs.mkdirSync(dir);
  const stepsFile = path.join(dir, 'steps.json');
  fs.writeFileSync(stepsFile, JSON.stringify(steps));
  const args = [path.join(here, 'console.mjs'), '--base', base, '--shots', dir, '--steps', stepsFile,
    '--timeout', '60', '--step-timeout', '3000', '--chromium', chromiumPath, ...extra];
  if (!extra.includes('--ca')) args.push('--ca', path.join(certs, 'ca.pem'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code) => {
      let json = null;
      try { json = JSON.parse(out); } catch { /* checked below */ }
      check(json !== null && out.trim().split('\n').length === 1, `run ${run}: one JSON line`, out);
      resolve({ code, json: json || {}, dir });
    });
  });
}

{
  const began = Date.now();
  const r = await drive([
    { do: 'goto', path: '/good' },
    { do: 'status', code: 200 },
    { do: 'expect', selector: 'h1', text: 'Desk' },
    { do: 'fill', selector: '#f [name=who]', value: 'li' },
    { do: 'select', selector: '#f [name=tier]', value: 'B' },
    { do: 'submit', form: '#f' },
    { do: 'url', pattern: '^/good\\?who=liB$' },
    { do: 'read_url', pattern: 'who=(\\w+)', as: 'who' },
    { do: 'fill', selector: '#f [name=who]', value: '{{who}}x' },
    { do: 'press', selector: '#f [name=who]', key: 'Enter' },
    { do: 'expect', selector: '#done', text: 'Hello liBxA' },
    { do: 'expect', selector: '#done', text: 'Hello liB' },
    { do: 'read', selector: 'a.csv', attr: 'href', as: 'csv' },
    { do: 'text', contains: '中文标签' },
    { do: 'no_text', contains: 'Goodbye' },
    { do: 'absent', selector: '#error' },
    { do: 'count', selector: 'option', min: 2 },
    { do: 'screenshot', name: 'good' },
    { do: 'download', selector: 'a[href="{{csv}}"]', name: 'data.csv', contains: '2026-12-01,4' },
  ]);
  check(r.code === 0 && r.json.ok === true, 'a working page passes', JSON.stringify(r.json.failed));
  check(r.json.steps_passed === 19, 'every step ran', String(r.json.steps_passed));
  check(r.json.requests >= 4, 'the requests were counted', String(r.json.requests));
  check(r.json.values?.csv === '/data.csv', 'a read value is returned');
  const shot = r.json.screenshots?.[0] || {};
  check(shot.colours >= 3 && fs.existsSync(shot.path || ''), 'the screenshot was kept and checked', JSON.stringify(shot));
  check(fs.readFileSync(path.join(r.dir, 'data.csv'), 'utf8').startsWith('day,issued'), 'the download was kept');
  check(/CA vouched/.test(r.json.trust || ''), 'the server was trusted through the CA', r.json.trust);
  process.stderr.write(`selftest: a working page in ${Date.now() - began} ms\n`);
}
{
  const r = await drive([{ do: 'goto', path: '/foreign' }, { do: 'expect', selector: 'h1' }]);
  check(r.code === 1 && r.json.ok === false, 'a page loading from another origin fails');
  check((r.json.foreign || []).some((u) => u.startsWith(elsewhereUrl)), 'the foreign URL is named', JSON.stringify(r.json.foreign));
  check(elsewhereHits === 0, 'the foreign request was never sent', String(elsewhereHits));
}
{
  const r = await drive([{ do: 'goto', path: '/blank' }, { do: 'screenshot', name: 'blank' }]);
  check(r.code === 1 && r.json.failed?.index === 1 && /blank/.test(r.json.failed?.error), 'a blank screenshot fails',
    JSON.stringify(r.json.failed));
}
{
  const began = Date.now();
  const r = await drive([{ do: 'goto', path: '/good' }, { do: 'expect', selector: '#nothing-here' },
    { do: 'goto', path: '/good' }]);
  check(r.code === 1 && r.json.failed?.index === 1 && r.json.steps_passed === 1, 'a missing element fails, and stops the run',
    JSON.stringify(r.json.failed));
  check(Date.now() - began < 30000, 'within its step time limit', `${Date.now() - began} ms`);
  check(fs.existsSync(path.join(r.dir, 'failure.png')), 'a screenshot of the failure is kept');
}
{
  const r = await drive([{ do: 'goto', path: '/good' }, { do: 'expect', selector: '#f', text: 'nope' }]);
  check(r.code === 1 && /not "nope"/.test(r.json.failed?.error), 'an element with other text fails', JSON.stringify(r.json.failed));
  const s = await drive([{ do: 'goto', path: '/good' }, { do: 'status', code: 404 }]);
  check(s.code === 1 && /status 200/.test(s.json.failed?.error), 'a wrong status fails', JSON.stringify(s.json.failed));
}
{
  const r = await drive([{ do: 'goto', path: '/refused' }, { do: 'expect', selector: 'h1' }]);
  check(r.code === 1 && (r.json.page_errors || []).length > 0, 'a script the page\'s CSP refuses is reported',
    JSON.stringify(r.json.page_errors));
}
{
  const r = await drive([{ do: 'goto', path: '/good' }], ['--ca', path.join(otherCerts, 'ca.pem')]);
  check(r.code === 1 && /TLS check/.test(r.json.failed?.error), 'a server the CA did not sign is refused',
    JSON.stringify(r.json.failed));
}
{
  const r = await drive([{ do: 'fly', path: '/' }]);
  check(r.code === 1 && /unknown step kind/.test(r.json.failed?.error), 'an unknown step fails');
}

server.close();
elsewhere.close();
fs.rmSync(work, { recursive: true, force: true });
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
