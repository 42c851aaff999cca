// Drives a web page in Debian's headless chromium, as a person at the
// service desk would, for giftgate's browser tests: a list of steps (go to,
// fill, submit, expect, screenshot, download) from a JSON file, run in
// order until one fails. Whatever the steps, the run fails if the page
// requests anything from another origin than the server's, if the browser
// reports an error on the page (a refused resource, a CSP violation), or if
// a screenshot is blank. It prints exactly one JSON line with the results on
// standard output; progress goes to standard error.
//
//   node console.mjs --base https://127.0.0.1:PORT --ca ca.pem --shots DIR --steps steps.json
//                    [--timeout SECONDS] [--step-timeout MS] [--chromium PATH] [--insecure]
//
// Exit status: 0 every step passed, 1 a step or a check failed (the JSON
// says which), 2 bad arguments, 77 no chromium (the caller skips the test).
//
// Steps: {"do": KIND, ...}; strings may hold {{name}}, a value read earlier.
//   goto {path}                 load base+path (redirects followed)
//   click {selector}            click a link or button that loads a page
//   press {selector, key}       press a key in a field (Enter submits its form), wait for the page
//   submit {form}               click the form's submit button, wait for the page
//   fill {selector, value} · check {selector} · uncheck {selector}
//   select {selector, value}    choose an <option> by value
//   url {pattern}               the page's path+query matches the regex
//   status {code}               the last page load's HTTP status
//   expect {selector, text?}    the element is there (and its text has `text`)
//   absent {selector}           no such element
//   count {selector, min}       at least `min` such elements
//   text {contains} · no_text {contains}   the page's visible text
//   read {selector, attr?, as}  remember an attribute or the text as `as`
//   read_url {pattern, as}      remember the regex's first group in the page's path+query
//   screenshot {name, min_colours?, min_foreground?}  the whole page, checked not blank
//   download {selector, name, contains?}  click a link that downloads; keep the file
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate, createHash } from 'node:crypto';
import { decodePng, pictureStats, notBlank } from './png.mjs';

const started = Date.now();
const result = {
  ok: false,
  steps_total: 0,
  steps_passed: 0,
  failed: null,        // {index, step, error, url}
  requests: 0,         // every request the page made
  foreign: [],         // those to another origin (refused)
  page_errors: [],     // what the browser reported as errors on the page
  screenshots: [],
  downloads: [],
  values: {},
  trust: null,         // how the server's certificate was trusted
  elapsed_ms: 0,
};
let printed = false;
function finish(code) {
  if (!printed) {
    printed = true;
    result.elapsed_ms = Date.now() - started;
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  process.exitCode = code;
  return code;
}
function say(text) { process.stderr.write(`console.mjs: ${text}\n`); }

function parseArgs(argv) {
  const options = { timeout: 150, stepTimeout: 10000, chromium: '/usr/bin/chromium', insecure: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--base': options.base = value(); break;
      case '--ca': options.ca = value(); break;
      case '--shots': options.shots = value(); break;
      case '--steps': options.steps = value(); break;
      case '--timeout': options.timeout = Number(value()); break;
      case '--step-timeout': options.stepTimeout = Number(value()); break;
      case '--chromium': options.chromium = value(); break;
      case '--insecure': options.insecure = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  for (const need of ['base', 'shots', 'steps'])
    if (!options[need]) throw new Error(`--${need} is required`);
  if (!(options.timeout > 0) || !(options.stepTimeout > 0)) throw new Error('timeouts must be positive');
  return options;
}

// Chromium cannot be handed a CA for one run (it reads the system's or a
// profile's NSS store), but it can be told which server keys to accept. So
// the CA is checked here: node connects with the CA as its only trust
// anchor and the host name checked, and the key of the certificate that
// passed is the one chromium accepts. A certificate the CA did not sign
// fails here, before the browser starts.
function pinnedServerKey(base, caFile, timeoutMs) {
  const url = new URL(base);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port: Number(url.port || 443),
      ca: fs.readFileSync(caFile),
      servername: /^[0-9.]+$|:/.test(host) ? undefined : host,
    });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`TLS check of ${base} timed out`)); }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.end();
      const key = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
      resolve(createHash('sha256').update(key).digest('base64'));
    });
    socket.once('error', (e) => { clearTimeout(timer); reject(new Error(`TLS check of ${base} failed: ${e.message}`)); });
  });
}

function substitute(value) {
  if (typeof value !== 'string') return value;
  return value.replace(/\{\{(\w+)\}\}/g, (_, name) => {
    if (!(name in result.values)) throw new Error(`no value {{${name}}} was read before`);
    return result.values[name];
  });
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    result.failed = { index: -1, error: e.message };
    return finish(2);
  }
  if (!fs.existsSync(options.chromium)) {
    result.failed = { index: -1, error: `no chromium at ${options.chromium}` };
    return finish(77);
  }
  // Bounded as a whole: whatever hangs, one line comes out and the browser goes.
  let browser = null;
  const watchdog = setTimeout(() => {
    result.failed = result.failed || { index: result.steps_passed, error: `the run took over ${options.timeout} s` };
    finish(1);
    if (browser) browser.close().catch(() => {});
    setTimeout(() => process.exit(1), 3000).unref();
  }, options.timeout * 1000);

  let steps;
  try {
    steps = JSON.parse(fs.readFileSync(options.steps, 'utf8'));
    if (!Array.isArray(steps)) throw new Error('the steps file is not a JSON array');
  } catch (e) {
    clearTimeout(watchdog);
    result.failed = { index: -1, error: `steps: ${e.message}` };
    return finish(2);
  }
  result.steps_total = steps.length;
  fs.mkdirSync(options.shots, { recursive: true });
  const origin = new URL(options.base).origin;

  const args = [];
  let ignoreHTTPSErrors = false;
  if (origin.startsWith('https:')) {
    if (options.ca) {
      try {
        const pin = await pinnedServerKey(options.base, options.ca, options.stepTimeout);
        args.push(`--ignore-certificate-errors-spki-list=${pin}`);
        result.trust = 'the server key the CA vouched for';
      } catch (e) {
        clearTimeout(watchdog);
        result.failed = { index: -1, error: e.message };
        return finish(1);
      }
    } else if (options.insecure) {
      ignoreHTTPSErrors = true;
      result.trust = 'any certificate (--insecure)';
    }
  }

  const { chromium } = await import('playwright-core');
  let page;
  try {
    // Chromium's sandbox refuses to start as root; as anyone else it stays on.
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    browser = await chromium.launch({
      executablePath: options.chromium,
      headless: true,
      chromiumSandbox: !root,
      args,
      timeout: 30000,
    });
    const context = await browser.newContext({
      ignoreHTTPSErrors,
      viewport: { width: 1280, height: 900 },
      locale: 'en-US',
      acceptDownloads: true,
    });
    context.setDefaultTimeout(options.stepTimeout);
    context.setDefaultNavigationTimeout(options.stepTimeout);
    // Every request passes through here: one to another origin is noted and
    // never sent, so a test on a machine without internet still fails on it.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin !== origin) {
        if (!result.foreign.includes(url)) result.foreign.push(url);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    page = await context.newPage();
    page.on('request', (request) => {
      ++result.requests;
      const url = request.url();
      if (url.startsWith('data:') || url.startsWith('blob:')) return;  // inline, not fetched
      if (new URL(url).origin !== origin && !result.foreign.includes(url)) result.foreign.push(url);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') result.page_errors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => result.page_errors.push(`${page.url()}: ${error.message}`));
  } catch (e) {
    clearTimeout(watchdog);
    result.failed = { index: -1, error: `chromium did not start: ${e.message.split('\n')[0]}` };
    if (browser) await browser.close().catch(() => {});
    return finish(1);
  }

  let lastStatus = 0;
  page.on('response', (response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame())
      lastStatus = response.status();
  });
  const here = () => {
    const u = new URL(page.url());
    return u.origin === origin ? u.pathname + u.search : page.url();
  };
  // Runs `action` (a click) and waits for the page it loads.
  const loads = async (action) => {
    const navigated = page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame(),
      timeout: options.stepTimeout,
    });
    await action();
    await navigated;
    await page.waitForLoadState('load');
  };

  const kinds = {
    goto: async (s) => { await page.goto(origin + s.path, { waitUntil: 'load' }); },
    click: async (s) => { await loads(() => page.locator(s.selector).first().click()); },
    submit: async (s) => {
      await loads(() => page.locator(`${s.form} [type=submit]`).first().click());
    },
    press: async (s) => { await loads(() => page.locator(s.selector).first().press(s.key)); },
    fill: async (s) => { await page.locator(s.selector).first().fill(s.value); },
    check: async (s) => { await page.locator(s.selector).first().check(); },
    uncheck: async (s) => { await page.locator(s.selector).first().uncheck(); },
    select: async (s) => { await page.locator(s.selector).first().selectOption(s.value); },
    url: async (s) => {
      if (!new RegExp(s.pattern).test(here())) throw new Error(`at ${here()}, not at /${s.pattern}/`);
    },
    status: async (s) => {
      if (lastStatus !== s.code) throw new Error(`status ${lastStatus}, not ${s.code}`);
    },
    expect: async (s) => {
      const element = page.locator(s.selector).first();
      await element.waitFor({ state: 'attached' });
      if (s.text !== undefined) {
        const text = (await element.textContent()) || '';
        if (!text.includes(s.text))
          throw new Error(`${s.selector} says "${text.replace(/\s+/g, ' ').trim().slice(0, 300)}", not "${s.text}"`);
      }
    },
    absent: async (s) => {
      const n = await page.locator(s.selector).count();
      if (n !== 0) throw new Error(`${n} of ${s.selector} on the page`);
    },
    count: async (s) => {
      const n = await page.locator(s.selector).count();
      if (n < s.min) throw new Error(`${n} of ${s.selector}, fewer than ${s.min}`);
    },
    text: async (s) => {
      const text = await page.locator('body').innerText();
      if (!text.includes(s.contains)) throw new Error(`the page does not say "${s.contains}"`);
    },
    no_text: async (s) => {
      const text = await page.locator('body').innerText();
      if (text.includes(s.contains)) throw new Error(`the page says "${s.contains}"`);
    },
    read: async (s) => {
      const element = page.locator(s.selector).first();
      await element.waitFor({ state: 'attached' });
      const value = s.attr ? await element.getAttribute(s.attr) : (await element.textContent() || '').trim();
      if (value === null || value === '') throw new Error(`${s.selector} has no ${s.attr || 'text'}`);
      result.values[s.as] = value;
    },
    read_url: async (s) => {
      const match = new RegExp(s.pattern).exec(here());
      if (!match || match[1] === undefined) throw new Error(`at ${here()}, nothing for /${s.pattern}/`);
      result.values[s.as] = match[1];
    },
    screenshot: async (s) => {
      const file = path.join(options.shots, `${s.name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const stats = pictureStats(decodePng(fs.readFileSync(file)));
      const shot = { name: s.name, path: file, url: here(), ...stats };
      result.screenshots.push(shot);
      const blank = notBlank(stats, s.min_colours ?? 3, s.min_foreground ?? 0.01);
      if (blank) throw new Error(`screenshot ${s.name} looks blank: ${blank}`);
    },
    download: async (s) => {
      const waiting = page.waitForEvent('download', { timeout: options.stepTimeout });
      await page.locator(s.selector).first().click();
      const download = await waiting;
      const failure = await download.failure();
      if (failure) throw new Error(`download failed: ${failure}`);
      const file = path.join(options.shots, s.name);
      await download.saveAs(file);
      const body = fs.readFileSync(file, 'utf8');
      result.downloads.push({ name: s.name, path: file, bytes: body.length, suggested: download.suggestedFilename() });
      if (s.contains !== undefined && !body.includes(s.contains))
        throw new Error(`${s.name} does not contain "${s.contains}"`);
    },
  };

  let failedAt = -1;
  for (let i = 0; i < steps.length && failedAt < 0; ++i) {
    const step = {};
    try {
      for (const [k, v] of Object.entries(steps[i])) step[k] = substitute(v);
      const run = kinds[step.do];
      if (!run) throw new Error(`unknown step kind "${step.do}"`);
      await run(step);
      result.steps_passed = i + 1;
      say(`step ${i} ${JSON.stringify(steps[i])}: ok at ${here()} (${lastStatus})`);
    } catch (e) {
      failedAt = i;
      let error = '';
      try {
        // What the page itself said went wrong, if it says so.
        error = (await page.locator('#error').first().textContent({ timeout: 500 })) || '';
      } catch { /* no error on the page */ }
      result.failed = {
        index: i,
        step: steps[i],
        error: e.message.split('\n')[0],
        url: here(),
        status: lastStatus,
        page_error: error.trim(),
      };
      say(`step ${i} ${JSON.stringify(steps[i])} FAILED: ${result.failed.error} at ${here()} (${lastStatus})`);
      await page.screenshot({ path: path.join(options.shots, 'failure.png'), fullPage: true }).catch(() => {});
    }
  }
  await browser.close().catch(() => {});
  clearTimeout(watchdog);
  result.ok = failedAt < 0 && result.foreign.length === 0 && result.page_errors.length === 0;
  if (failedAt < 0 && !result.ok)
    result.failed = { index: steps.length, error: result.foreign.length
      ? `the page requested from other origins: ${result.foreign.join(' ')}`
      : `the browser reported errors: ${result.page_errors.join(' | ')}` };
  return finish(result.ok ? 0 : 1);
}

main().catch((e) => {
  result.failed = result.failed || { index: -1, error: `driver error: ${e.stack || e.message}` };
  finish(1);
});
