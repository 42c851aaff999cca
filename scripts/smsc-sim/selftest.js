#!/usr/bin/env node
// Self-test of the SMSC simulator: starts smsc-sim.js, drives it through its
// line protocol and talks to it with the `smpp` package's client. Exits 0 when
// every check passes, 1 otherwise. Bounded: the whole run stops after 90 s.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const smpp = require('smpp');

const SIM = path.join(__dirname, 'smsc-sim.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- the simulator, driven through stdin/stdout ----------------------------

class Sim {
  constructor(extraArgs = []) {
    this.events = [];
    this.waiters = [];
    this.proc = spawn(process.execPath, [SIM, '--port', '0', ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => process.stderr.write('[sim] ' + d));
    readline.createInterface({ input: this.proc.stdout }).on('line', (line) => this.onLine(line));
    this.exited = new Promise((r) => this.proc.on('exit', r));
  }

  static parse(line) {
    const [name, ...rest] = line.split(' ');
    const fields = {};
    for (const t of rest) {
      const eq = t.indexOf('=');
      fields[eq < 0 ? t : t.slice(0, eq)] = eq < 0 ? '' : decodeURIComponent(t.slice(eq + 1));
    }
    return { name, fields, line, used: false };
  }

  onLine(line) {
    const e = Sim.parse(line);
    this.events.push(e);
    for (const w of [...this.waiters]) w();
  }

  // The first event of that name, not returned before, for which pred holds.
  waitFor(name, pred = () => true, timeout = 3000) {
    return new Promise((resolve) => {
      const check = () => {
        const names = Array.isArray(name) ? name : [name];
        const e = this.events.find((x) => !x.used && names.includes(x.name) && pred(x.fields));
        if (!e) return false;
        e.used = true;
        this.waiters = this.waiters.filter((w) => w !== check);
        clearTimeout(timer);
        resolve(e);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(null);
      }, timeout);
      if (!check()) this.waiters.push(check);
    });
  }

  async ready() {
    const e = await this.waitFor('ready', () => true, 10000);
    if (!e) throw new Error('simulator did not print ready');
    this.port = Number(e.fields.port);
    return e;
  }

  async command(line) {
    const name = line.split(' ')[0];
    this.proc.stdin.write(line + '\n');
    const e = await this.waitFor(['ok', 'error'], (f) => f.cmd === name, 5000);
    if (!e) throw new Error(`no answer to ${line}`);
    if (e.name === 'error') throw new Error(`${line}: ${e.fields.reason}`);
    return e;
  }

  count(name) {
    return this.events.filter((e) => e.name === name).length;
  }

  async quit() {
    try {
      this.proc.stdin.write('quit\n');
    } catch (e) { /* already gone */ }
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(t);
  }
}

// --- an ESME made with the smpp package ------------------------------------

class Client {
  constructor(port, options = {}) {
    this.delivers = [];
    this.waiters = [];
    this.autoRespond = true;
    this.session = smpp.connect(Object.assign({ host: '127.0.0.1', port }, options));
    this.session.on('error', (e) => { this.error = e; });
    this.closed = new Promise((r) => this.session.on('close', r));
    this.session.on('pdu', (pdu) => {
      if (pdu.command === 'deliver_sm') {
        this.delivers.push(pdu);
        if (this.autoRespond) this.session.send(pdu.response());
        for (const w of [...this.waiters]) w();
      } else if (pdu.command === 'enquire_link') {
        this.session.send(pdu.response());
      } else if (pdu.command === 'unbind') {
        this.unbound = true;
        this.session.send(pdu.response());
      } else if (pdu.command === 'unknown') {
        this.session.send(pdu.response());  // generic_nack ESME_RINVCMDID
      }
    });
  }

  connected() {
    return new Promise((resolve, reject) => {
      this.session.once(this.session.options.tls ? 'secureConnect' : 'connect', resolve);
      this.session.once('error', reject);
    });
  }

  call(command, options, timeout = 2000) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeout);
      this.session[command](options, (pdu) => {
        clearTimeout(timer);
        resolve(pdu);
      });
    });
  }

  bind(kind = 'bind_transceiver', systemId = 'selftest') {
    return this.call(kind, { system_id: systemId, password: 'pw' });
  }

  waitDelivers(n, timeout = 3000) {
    return new Promise((resolve) => {
      const check = () => {
        if (this.delivers.length < n) return false;
        this.waiters = this.waiters.filter((w) => w !== check);
        clearTimeout(timer);
        resolve(this.delivers.slice(0, n));
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(null);
      }, timeout);
      if (!check()) this.waiters.push(check);
    });
  }

  close() {
    this.session.destroy();
    return this.closed;
  }
}

function ucs2(text) {
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return b;
}

// --- checks -----------------------------------------------------------------

let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) {
    passed++;
  } else {
    failed++;
    console.log('FAIL: ' + what);
  }
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('bind accept, reject count, events', async (sim) => {
  await sim.command('set bind_reject_count=1 bind_status=13');
  const c = new Client(sim.port);
  await c.connected();
  check(await sim.waitFor('connect'), 'connect event');
  const r1 = await c.bind();
  check(r1 && r1.command_status === 13, 'first bind rejected with 13');
  const e1 = await sim.waitFor('bind');
  check(e1 && e1.fields.accepted === '0' && e1.fields.status === '13', 'bind event accepted=0');
  const r2 = await c.bind();
  check(r2 && r2.command_status === 0, 'second bind accepted');
  const e2 = await sim.waitFor('bind');
  check(e2 && e2.fields.accepted === '1' && e2.fields.kind === 'transceiver' && e2.fields.system_id === 'selftest', 'bind event accepted=1');
  const r3 = await c.bind();
  check(r3 && r3.command_status === 0x05, 'bind on a bound session: ESME_RALYBND');
  await c.close();
  check(await sim.waitFor('close'), 'close event');
});

test('submit, ids, outstanding, message event', async (sim) => {
  const c = new Client(sim.port);
  await c.connected();
  await c.bind();
  const r = await c.call('submit_sm', { source_addr: '12580', destination_addr: '8613800138000', short_message: Buffer.from('hello'), data_coding: 0 });
  check(r && r.command_status === 0 && /^[0-9]+$/.test(r.message_id), 'decimal message id');
  const s = await sim.waitFor('submit');
  check(s && s.fields.id === r.message_id && s.fields.sm_hex === Buffer.from('hello').toString('hex') &&
        s.fields.outstanding === '1' && s.fields.dst === '8613800138000' && Number(s.fields.t) > 0, 'submit event fields');
  const m = await sim.waitFor('message');
  check(m && m.fields.text === 'hello' && m.fields.parts === '1', 'message event for a single part');
  await sim.command('set ids=uuid');
  const r2 = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('x') });
  check(r2 && /^[0-9a-f-]{36}$/.test(r2.message_id), 'uuid id');
  await sim.command('set ids=dec resp_delay_ms=150');
  const pending = [1, 2, 3].map(() => c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('w') }));
  await Promise.all(pending);
  const outs = sim.events.filter((e) => e.name === 'submit').slice(-3).map((e) => e.fields.outstanding);
  check(outs.join(',') === '1,2,3', 'outstanding counts unanswered submits: ' + outs);
  await sim.command('set resp_delay_ms=0 submit_status=11');
  const r3 = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('x') });
  check(r3 && r3.command_status === 11, 'submit_status=11');
  await sim.command('set submit_status=0');
  await c.close();
});

test('receipts: hex ids with decimal receipt, TLVs, coding 8, before resp', async (sim) => {
  const c = new Client(sim.port);
  await c.connected();
  await c.bind();
  await sim.command('set ids=hex receipt_ids=dec receipts=on receipt_tlvs=on receipt_stat=UNDELIV receipt_err=34 receipt_coding=8');
  const r = await c.call('submit_sm', { destination_addr: '8613800138000', short_message: Buffer.from('voucher'), registered_delivery: 1 });
  check(r && /^[0-9A-F]+$/.test(r.message_id), 'hex id ' + (r && r.message_id));
  const d = await c.waitDelivers(1);
  check(d, 'receipt delivered');
  if (d) {
    const pdu = d[0];
    const text = pdu.short_message.message;
    check(pdu.esm_class === 0x04, 'receipt esm_class 0x04');
    check(pdu.data_coding === 8, 'receipt data_coding 8');
    // The package decoded the ASCII as UCS-2; re-encode to get the octets.
    const ascii = typeof text === 'string' ? ucs2(text).toString('latin1') : '';
    const id = (/id:(\S+)/.exec(ascii) || [])[1];
    check(id === String(parseInt(r.message_id, 16)), `receipt id ${id} is the decimal of ${r.message_id}`);
    check(/stat:UNDELIV err:034/.test(ascii), 'stat and err in the text: ' + ascii);
    check(pdu.receipted_message_id === id && pdu.message_state === 5, 'receipt TLVs');
  }
  check(await sim.waitFor('receipt_sent', (f) => f.stat === 'UNDELIV'), 'receipt_sent event');
  check(await sim.waitFor('deliver_resp', (f) => f.kind === 'receipt' && f.status === '0'), 'deliver_resp for the receipt');

  // Before the response; and registered_delivery=0 gets none.
  c.delivers = [];
  await sim.command('set receipt_before_resp=on resp_delay_ms=100 receipt_ids=same receipt_coding=0 receipt_stat=DELIVRD');
  let respAt = 0;
  const p = c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('x'), registered_delivery: 1 }).then((x) => { respAt = Date.now(); return x; });
  const d2 = await c.waitDelivers(1);
  const receiptAt = Date.now();
  const r2 = await p;
  check(d2 && r2 && receiptAt <= respAt, 'receipt before the submit_sm_resp');
  if (d2) check(d2[0].short_message.message.includes('id:' + r2.message_id + ' '), 'receipt_ids=same');
  await sim.command('set receipt_before_resp=off resp_delay_ms=0');
  c.delivers = [];
  await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('x'), registered_delivery: 0 });
  check(!(await c.waitDelivers(1, 300)), 'no receipt without registered_delivery');
  await sim.command('receipt id=ABC stat=EXPIRED err=1 tlvs=on');
  const d3 = await c.waitDelivers(1);
  check(d3 && d3[0].receipted_message_id === 'ABC' && d3[0].message_state === 3, 'manual receipt');
  await sim.command('reset');
  await c.close();
});

test('receipt_hold: receipts wait for the next receiver, unanswered ones too', async (sim) => {
  await sim.command('set receipt_hold=on');
  await sim.command('receipt id=H1 stat=DELIVRD');
  check(await sim.waitFor('receipt_held', (f) => f.id === 'H1' && f.reason === 'no_receiver'), 'held with no receiver');
  const a = new Client(sim.port);
  await a.connected();
  a.autoRespond = false;
  await a.bind();
  const first = await a.waitDelivers(1);
  check(first && first[0].short_message.message.includes('id:H1 '), 'held receipt sent on bind');
  await a.close();  // never answered it
  check(await sim.waitFor('receipt_held', (f) => f.id === 'H1' && f.reason === 'unanswered'), 'held again when unanswered');
  const b = new Client(sim.port);
  await b.connected();
  await b.bind();
  const again = await b.waitDelivers(1);
  check(again && again[0].short_message.message.includes('id:H1 '), 'sent again to the next receiver');
  check(await sim.waitFor('deliver_resp', (f) => f.kind === 'receipt' && f.status === '0'), 'answered this time');
  await sim.command('reset');
  await b.close();
});

test('USSD centre: dial, screens, press, end, hangup', async (sim) => {
  const c = new Client(sim.port);
  await c.connected();
  await c.bind();
  await sim.command('dial src=8613800138000 code=*12580*2%23');
  let d = await c.waitDelivers(1);
  check(d && d[0].ussd_service_op === 1 && d[0].destination_addr === '*12580#' &&
        d[0].short_message.message === '*12580*2#' &&
        Buffer.from(d[0].its_session_info).equals(Buffer.from([1, 0])), 'dial: PSSR indication, session 1, seq 0');
  const screen = (op, seq, end, text) => c.call('submit_sm', {
    service_type: 'USSD', destination_addr: '8613800138000', short_message: Buffer.from(text),
    ussd_service_op: op, its_session_info: Buffer.from([1, (seq << 1) | end]),
  });
  await screen(2, 1, 0, 'menu');
  check(await sim.waitFor('ussd_screen', (f) => f.ussd_op === '2' && f.ussd_seq === '1' && f.ends === '0' && f.known === '1' && f.text === 'menu'), 'a menu screen');
  c.delivers = [];
  await sim.command('press src=8613800138000 text=1');
  d = await c.waitDelivers(1);
  check(d && d[0].ussd_service_op === 18 && Buffer.from(d[0].its_session_info).equals(Buffer.from([1, 2 << 1])), 'press: USSR confirm, seq 2');
  await screen(17, 3, 0, 'bye');
  check(await sim.waitFor('ussd_screen', (f) => f.ussd_op === '17' && f.ends === '1'), 'the end operation ends it');
  let refused = false;
  try { await sim.command('press src=8613800138000 text=1'); } catch (e) { refused = /no_session/.test(e.message); }
  check(refused, 'no session after the end');
  c.delivers = [];
  await sim.command('dial src=8613800138000 code=*12580%23');
  await c.waitDelivers(1);
  await sim.command('hangup src=8613800138000');
  d = await c.waitDelivers(2);
  check(d && d[1].ussd_service_op === 0x81 && d[1].its_session_info[0] === 2, 'hangup: the abort operation, session 2');
  await sim.command('reset');
  await c.close();
});

test('long messages: UCS-2 UDH8, UDH16, SAR, payload, duplicates', async (sim) => {
  const c = new Client(sim.port);
  await c.connected();
  await c.bind();
  const text = '您的积分可兑换电子礼券请回复兑换'.repeat(7).slice(0, 100) + '🎁';
  const units = ucs2(text);
  const send = (sm, extra = {}) => c.call('submit_sm', Object.assign({ source_addr: '12580', destination_addr: '86138', data_coding: 8, short_message: sm }, extra));
  const cut = (b, size) => { const out = []; for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size)); return out; };

  let parts = cut(units, 134);
  for (let i = 0; i < parts.length; ++i) {
    await send(Buffer.concat([Buffer.from([5, 0, 3, 0x2A, parts.length, i + 1]), parts[i]]), { esm_class: 0x40 });
  }
  let m = await sim.waitFor('message');
  check(m && m.fields.text === text && m.fields.parts === String(parts.length) && m.fields.concat === 'udh8' && m.fields.bad_split === '0', 'UDH8 UCS-2 reassembly');

  parts = cut(units, 132);
  for (let i = parts.length - 1; i >= 0; --i) {  // out of order
    await send(Buffer.concat([Buffer.from([6, 8, 4, 0x12, 0x34, parts.length, i + 1]), parts[i]]), { esm_class: 0x40 });
  }
  m = await sim.waitFor('message');
  check(m && m.fields.text === text && m.fields.concat === 'udh16' && m.fields.ref === String(0x1234), 'UDH16 reassembly out of order');

  parts = cut(units, 140);
  for (let i = 0; i < parts.length; ++i) {
    await send(parts[i], { sar_msg_ref_num: 7, sar_total_segments: parts.length, sar_segment_seqnum: i + 1 });
    if (i === 0) await send(parts[i], { sar_msg_ref_num: 7, sar_total_segments: parts.length, sar_segment_seqnum: 1 });
  }
  check(await sim.waitFor('duplicate_part'), 'duplicate part reported');
  m = await sim.waitFor('message');
  check(m && m.fields.text === text && m.fields.concat === 'sar', 'SAR reassembly');

  await send(Buffer.alloc(0), { message_payload: units });
  m = await sim.waitFor('message');
  check(m && m.fields.text === text && m.fields.concat === 'payload', 'message_payload');

  // Split between the halves of the surrogate pair: flagged.
  const odd = units.length - 2;
  await send(Buffer.concat([Buffer.from([5, 0, 3, 9, 2, 1]), units.subarray(0, odd)]), { esm_class: 0x40 });
  await send(Buffer.concat([Buffer.from([5, 0, 3, 9, 2, 2]), units.subarray(odd)]), { esm_class: 0x40 });
  m = await sim.waitFor('message');
  check(m && m.fields.bad_split === '1', 'split surrogate pair flagged');

  // GSM 7-bit unpacked with '@' and an escape.
  await c.call('submit_sm', { destination_addr: '1', data_coding: 0, short_message: Buffer.from([0x00, 0x1B, 0x65, 0x41]) });
  m = await sim.waitFor('message');
  check(m && m.fields.text === '@€A', 'GSM unpacked decoding: ' + (m && m.fields.text));
  await sim.command('set gsm=packed');
  await c.call('submit_sm', { destination_addr: '1', data_coding: 0, short_message: Buffer.from('e8329bfd06', 'hex') });
  m = await sim.waitFor('message');
  check(m && m.fields.text === 'hello', 'GSM packed decoding: ' + (m && m.fields.text));
  await sim.command('set gsm=unpacked id_pad=12 ids=hex');
  const padded = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('x') });
  check(padded && /^0000[0-9A-F]{8}$/.test(padded.message_id), 'id_pad: ' + (padded && padded.message_id));
  await sim.command('reset');
  await c.close();
});

test('throttle, msgqful, drop_resp_next, silent', async (sim) => {
  const c = new Client(sim.port);
  await c.connected();
  await c.bind();
  await sim.command('set throttle_rate=3');
  const rs = await Promise.all([1, 2, 3, 4, 5].map(() => c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('t') })));
  const statuses = rs.map((r) => r && r.command_status);
  check(statuses.filter((s) => s === 0).length === 3 && statuses.filter((s) => s === 0x58).length === 2, 'throttle 3/s: ' + statuses);
  await sleep(1050);
  const r = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('t') });
  check(r && r.command_status === 0, 'accepted again after a second');
  await sim.command('set throttle_rate=0 msgqful_next=1');
  const q = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('q') });
  check(q && q.command_status === 0x14, 'MSGQFUL');
  await sim.command('set drop_resp_next=1');
  const lost = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('d') }, 400);
  check(lost === null, 'dropped response');
  check(await sim.waitFor('submit', (f) => f.dropped === '1'), 'submit event dropped=1');
  const after = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('d') });
  check(after && after.command_status === 0, 'answered after the dropped one');
  await sim.command('set silent=on');
  const el = await c.call('enquire_link', {}, 400);
  check(el === null, 'silent: enquire_link not answered');
  await sim.command('set silent=off');
  const el2 = await c.call('enquire_link', {});
  check(el2 && el2.command_status === 0, 'answered again');
  check(await sim.waitFor('enquire_link', (f) => f.answered === '0'), 'enquire_link event answered=0');
  await sim.command('set enquire_link_ms=50');
  check(await sim.waitFor('enquire_link_resp'), "the SMSC's own enquire_link is answered");
  await sim.command('set enquire_link_ms=0');
  await c.close();
});

test('MO: UCS-2 split, USSD, TX+RX routing', async (sim) => {
  const tx = new Client(sim.port);
  await tx.connected();
  await tx.bind('bind_transmitter', 'tx');
  const rx = new Client(sim.port);
  await rx.connected();
  await rx.bind('bind_receiver', 'rx');
  const text = '积分兑换'.repeat(20);  // 80 characters: 2 parts
  const ok = await sim.command(`mo src=8613800138000 dst=12580 text=${encodeURIComponent(text)} coding=8 split=udh8 ref=5`);
  check(ok.fields.parts === '2' && ok.fields.seqs.split(',').length === 2, 'ok line lists the parts');
  const d = await rx.waitDelivers(2);
  check(d, 'receiver got both parts');
  check(tx.delivers.length === 0, 'transmitter got none');
  if (d) {
    const joined = d.map((p) => p.short_message.message).join('');
    check(joined === text, 'parts reassemble to the text');
    check(d[0].short_message.udh[0].equals(Buffer.from([0, 3, 5, 2, 1])), 'UDH of part 1');
    check(d[0].source_addr === '8613800138000' && d[0].data_coding === 8 && (d[0].esm_class & 0x40), 'MO fields');
  }
  check(await sim.waitFor('deliver_resp', (f) => f.kind === 'mo') && await sim.waitFor('deliver_resp', (f) => f.kind === 'mo'), 'deliver_resp events');

  rx.delivers = [];
  await sim.command('mo src=1 dst=2 text=' + 'a'.repeat(200) + ' split=sar ref=300');
  const sar = await rx.waitDelivers(2);
  check(sar && sar[0].sar_msg_ref_num === 300 && sar[1].sar_segment_seqnum === 2 && sar[0].sar_total_segments === 2 &&
        sar[0].short_message.message.length === 160, 'MO with SAR TLVs');
  rx.delivers = [];
  await sim.command('mo src=1 dst=2 text=' + 'b'.repeat(300) + ' split=payload');
  const payload = await rx.waitDelivers(1);
  check(payload && payload[0].message_payload && payload[0].message_payload.message === 'b'.repeat(300), 'MO with message_payload');
  rx.delivers = [];
  await sim.command('mo src=1 dst=2 hex=00ff41 coding=4');
  const bin = await rx.waitDelivers(1);
  check(bin && bin[0].data_coding === 4, 'MO with raw octets');

  rx.delivers = [];
  await sim.command('mo src=1 dst=2 text=JF');
  const single = await rx.waitDelivers(1);
  check(single && single[0].short_message.message === 'JF' && single[0].data_coding === 0, 'single MO');

  rx.delivers = [];
  await sim.command('ussd src=8613800138000 dst=*100%23 text=1 op=1 session=9 ussd_seq=1 end=1');
  const u = await rx.waitDelivers(1);
  check(u && u[0].ussd_service_op === 1 && Buffer.from(u[0].its_session_info).equals(Buffer.from([9, 3])) && u[0].destination_addr === '*100#', 'USSD TLVs');

  rx.delivers = [];
  rx.autoRespond = false;
  await sim.command('mo src=1 dst=2 text=later');
  const held = await rx.waitDelivers(1);
  if (held) rx.session.send(held[0].response({ command_status: 0x64 }));
  check(await sim.waitFor('deliver_resp', (f) => f.status === String(0x64)), 'deliver_resp with a status');

  await sim.command('unbind conn=' + ok.fields.conn);
  check(await sim.waitFor('unbind_resp'), 'SMSC-initiated unbind answered');
  let failedAsExpected = false;
  try {
    await sim.command('mo src=1 dst=2 text=x');
  } catch (e) {
    failedAsExpected = /no_receiver/.test(e.message);
  }
  check(failedAsExpected, 'mo with no receiver is an error');
  await tx.close();
  await rx.close();
});

test('malformed input both ways, raw, drop', async (sim) => {
  const c = new Client(sim.port);
  await c.connected();
  await c.bind();
  // The client's answer to an unknown command id.
  await sim.command('raw hex=00000010000000990000000000000042');
  const n = await sim.waitFor('generic_nack');
  check(n && n.fields.seq === String(0x42) && n.fields.status === '3', 'generic_nack event');
  // An unknown command from the client.
  c.session.socket.write(Buffer.from('00000010000000990000000000000077', 'hex'));
  check(await sim.waitFor('pdu', (f) => f.command === 'unknown' && f.seq === String(0x77)), 'unknown command reported');
  // A truncated submit_sm: answered with an error, session lives on.
  c.session.socket.write(Buffer.from('0000001400000004000000000000007800010100', 'hex'));
  check(await sim.waitFor('session_error', (f) => f.seq === String(0x78)), 'bad submit_sm reported');
  const el = await c.call('enquire_link', {});
  check(el && el.command_status === 0, 'still answering after malformed input');
  // A submit_sm whose TLV runs past the end.
  c.session.socket.write(Buffer.from(
    '0000002c00000004000000000000007900000000000000000000000000000000000000000000000004240009', 'hex'));
  check(await sim.waitFor('session_error', (f) => f.seq === String(0x79) && /TLV/.test(f.reason)), 'TLV overrun reported');
  // A command_length that cannot be: the connection is closed.
  c.session.socket.write(Buffer.from('00000008', 'hex'));
  check(await sim.waitFor('session_error', (f) => /command_length/.test(f.reason)), 'bad length reported');
  await c.closed;
  check(await sim.waitFor('close'), 'connection closed after a framing error');

  const c2 = new Client(sim.port);
  await c2.connected();
  await c2.bind();
  await sim.command('drop');
  await Promise.race([c2.closed, sleep(2000)]);
  check(c2.session.closed, 'drop closes the socket');
  const st = await (async () => { await sim.command('stats'); return sim.events.filter((e) => e.name === 'stats').pop(); })();
  check(st && Number(st.fields.submits) > 0 && Number(st.fields.binds) > 0 && 'session_errors' in st.fields, 'stats line');
});

test('TLS', async () => {
  const has = spawnSync('openssl', ['version']).status === 0;
  if (!has) {
    console.log('skip: no openssl');
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smsc-sim-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
                        '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const sim = new Sim(['--tls', '--cert', cert, '--key', key]);
  try {
    const ready = await sim.ready();
    check(ready.fields.tls === '1', 'ready tls=1');
    const c = new Client(sim.port, { tls: true, rejectUnauthorized: false });
    await c.connected();
    const r = await c.bind();
    check(r && r.command_status === 0, 'bind over TLS');
    const s = await c.call('submit_sm', { destination_addr: '1', short_message: Buffer.from('tls') });
    check(s && s.command_status === 0, 'submit over TLS');
    await c.close();
  } finally {
    await sim.quit();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function main() {
  const deadline = setTimeout(() => {
    console.log('FAIL: selftest took longer than 90 s');
    process.exit(1);
  }, 90000);
  const sim = new Sim();
  await sim.ready();
  for (const t of tests) {
    const before = failed;
    for (const e of sim.events) e.used = true;  // each test sees only its own events
    try {
      await t.fn(sim);
    } catch (e) {
      failed++;
      console.log(`FAIL: ${t.name}: ${e.stack || e}`);
    }
    console.log(`${failed === before ? 'ok  ' : 'FAIL'} ${t.name}`);
  }
  await sim.quit();
  clearTimeout(deadline);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('FAIL: ' + (e.stack || e));
  process.exit(1);
});
