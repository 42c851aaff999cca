#!/usr/bin/env node
// An SMSC simulator for giftgate's integration tests.
//
// It listens for ESMEs on 127.0.0.1 (SMPP 3.4, optionally over TLS) and is
// driven by a line protocol: commands on stdin, events on stdout, one line
// each, `name key=value ...` with values percent-encoded (encodeURIComponent)
// so that a line splits on spaces. README.md in this folder is the reference.
//
// The npm package `smpp` does the sockets and the PDU framing. The bodies of
// submit_sm are read again here from the raw bytes, strictly, because the
// tests care about the exact octets the gateway sent (UDH, UCS-2, TLVs) and
// the package's decoding is lenient and lossy.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const readline = require('readline');
const { performance } = require('perf_hooks');
const smpp = require('smpp');

const PDU = smpp.PDU;
const started = performance.now();

// ---------------------------------------------------------------------------
// Command line

function usage(message) {
  process.stderr.write(
    (message ? message + '\n' : '') +
      'usage: node smsc-sim.js [--port N] [--host 127.0.0.1] [--tls --cert FILE --key FILE]\n' +
      '                        [--max-pdu N] [--system-id ID] [--debug]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = { port: 0, host: '127.0.0.1', tls: false, cert: '', key: '', maxPdu: 16384,
                 systemId: 'giftgate-sim', debug: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage('missing value for ' + a);
      return argv[++i];
    };
    switch (a) {
      case '--port': args.port = Number(value()); break;
      case '--host': args.host = value(); break;
      case '--tls': args.tls = true; break;
      case '--cert': args.cert = value(); break;
      case '--key': args.key = value(); break;
      case '--max-pdu': args.maxPdu = Number(value()); break;
      case '--system-id': args.systemId = value(); break;
      case '--debug': args.debug = true; break;
      case '-h': case '--help': usage(); break;
      default: usage('unknown argument ' + a);
    }
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) usage('bad --port');
  if (!Number.isInteger(args.maxPdu) || args.maxPdu < 16) usage('bad --max-pdu');
  if (args.tls && (!args.cert || !args.key)) usage('--tls needs --cert and --key');
  return args;
}

const args = parseArgs(process.argv.slice(2));
PDU.maxLength = args.maxPdu;

// ---------------------------------------------------------------------------
// Output: one line per event, values percent-encoded.

function wellFormed(s) {
  // encodeURIComponent throws on lone surrogates, which a badly split UCS-2
  // message produces; show them as U+FFFD instead.
  return typeof s.toWellFormed === 'function'
    ? s.toWellFormed()
    : s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function enc(v) {
  return encodeURIComponent(wellFormed(String(v)));
}

function writeLine(line) {
  try {
    process.stdout.write(line + '\n');
  } catch (e) {
    process.exit(0);  // the driver is gone
  }
}

function format(name, fields) {
  let line = name;
  for (const [k, v] of Object.entries(fields || {})) {
    if (v === undefined || v === null) continue;
    line += ' ' + k + '=' + enc(v);
  }
  return line;
}

function now() {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

function emit(name, fields) {
  writeLine(format(name, Object.assign({}, fields, { t: now() })));
}

function debug(msg) {
  if (args.debug) process.stderr.write('smsc-sim: ' + msg + '\n');
}

process.stdout.on('error', () => process.exit(0));

// ---------------------------------------------------------------------------
// Constants

const STATUS = {
  OK: 0x00, INVCMDLEN: 0x02, INVCMDID: 0x03, INVBNDSTS: 0x04, ALYBND: 0x05, SYSERR: 0x08,
  BINDFAIL: 0x0D, INVPASWD: 0x0E, MSGQFUL: 0x14, THROTTLED: 0x58, INVTLVSTREAM: 0xC0,
};

const MESSAGE_STATE = {
  ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8,
};

const TLV = {
  receipted_message_id: 0x001E, user_message_reference: 0x0204, sar_msg_ref_num: 0x020C,
  sar_total_segments: 0x020E, sar_segment_seqnum: 0x020F, network_error_code: 0x0423,
  message_payload: 0x0424, message_state: 0x0427, ussd_service_op: 0x0501,
  its_session_info: 0x1383,
};

const BIND_KINDS = {
  bind_transceiver: 'transceiver', bind_transmitter: 'transmitter', bind_receiver: 'receiver',
};

// GSM 03.38 default alphabet and its extension table (after 0x1B).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = {
  0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\', 0x3C: '[', 0x3D: '~', 0x3E: ']',
  0x40: '|', 0x65: '€',
};
if ([...GSM_BASIC].length !== 128) throw new Error('GSM table is not 128 characters');

// ---------------------------------------------------------------------------
// Settings: one table of keys, their parser and default.

const enumOf = (...values) => (v) => {
  if (!values.includes(v)) throw new Error('expected one of ' + values.join('|'));
  return v;
};
const onOff = enumOf('on', 'off');

function intIn(min, max) {
  return (v) => {
    const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`expected an integer ${min}..${max}`);
    return n;
  };
}

const SETTINGS = {
  bind: { parse: enumOf('accept', 'reject'), def: 'accept' },
  bind_status: { parse: intIn(0, 0xFFFFFFFF), def: STATUS.BINDFAIL },
  bind_reject_count: { parse: intIn(0, 1e9), def: 0 },
  password: { parse: (v) => v, def: '' },
  ids: { parse: enumOf('dec', 'hex', 'uuid'), def: 'dec' },
  id_pad: { parse: intIn(0, 64), def: 0 },
  id_start: { parse: intIn(0, Number.MAX_SAFE_INTEGER), def: null },
  receipt_ids: { parse: enumOf('same', 'dec', 'hex'), def: 'same' },
  receipts: { parse: onOff, def: 'off' },
  receipt_stat: { parse: (v) => { if (!/^[A-Z]{1,10}$/.test(v)) throw new Error('expected a word like DELIVRD'); return v; }, def: 'DELIVRD' },
  receipt_err: { parse: intIn(0, 0xFFFF), def: 0 },
  receipt_delay_ms: { parse: intIn(0, 3600000), def: 0 },
  receipt_tlvs: { parse: onOff, def: 'off' },
  receipt_coding: { parse: intIn(0, 255), def: 0 },
  receipt_before_resp: { parse: onOff, def: 'off' },
  receipt_hold: { parse: onOff, def: 'off' },
  ussd_begin_op: { parse: intIn(0, 255), def: 1 },
  ussd_continue_op: { parse: intIn(0, 255), def: 18 },
  ussd_end_op: { parse: intIn(0, 255), def: 17 },
  ussd_abort_op: { parse: intIn(0, 255), def: 0x81 },
  submit_status: { parse: intIn(0, 0xFFFFFFFF), def: 0 },
  resp_delay_ms: { parse: intIn(0, 3600000), def: 0 },
  drop_resp_next: { parse: intIn(0, 1e9), def: 0 },
  throttle_rate: { parse: intIn(0, 1e9), def: 0 },
  msgqful_next: { parse: intIn(0, 1e9), def: 0 },
  silent: { parse: onOff, def: 'off' },
  enquire_link_ms: { parse: intIn(0, 3600000), def: 0 },
  gsm: { parse: enumOf('unpacked', 'packed', 'latin1'), def: 'unpacked' },
  mo_gsm: { parse: enumOf('latin1', 'unpacked'), def: 'latin1' },
};

// Receipts waiting for a receiver (receipt_hold=on): none was bound, or the
// one they went to closed before answering them.
const heldReceipts = [];

let settings = {};
function resetSettings() {
  settings = {};
  for (const [k, spec] of Object.entries(SETTINGS)) settings[k] = spec.def;
}
resetSettings();

const stats = {
  connects: 0, sessions: 0, binds: 0, bind_rejects: 0, submits: 0, submit_ok: 0,
  submit_failed: 0, dropped: 0, throttled: 0, msgqful: 0, messages: 0, duplicates: 0,
  receipts: 0, delivers: 0, deliver_resps: 0, enquire_links: 0, generic_nacks: 0,
  unbinds: 0, session_errors: 0,
};

// ---------------------------------------------------------------------------
// Make the package keep the raw bytes of each PDU and survive bad ones.
//
// A PDU whose body cannot be parsed becomes a pseudo-PDU with command
// 'malformed' (the package would otherwise emit 'error' and stop reading for
// good). A length outside 16..max cannot be resynchronised: it still throws,
// and the connection is closed after a session_error event.

PDU.commandLength = function (stream) {
  const buffer = stream.read(4);
  if (!buffer) return false;
  const length = buffer.readUInt32BE(0);
  if (length < 16 || length > PDU.maxLength) {
    const e = new Error(`bad command_length ${length} (16..${PDU.maxLength})`);
    e.framing = true;
    throw e;
  }
  return length;
};

PDU.fromStream = function (stream, length) {
  const body = stream.read(length - 4);
  if (!body) return false;
  const head = Buffer.alloc(4);
  head.writeUInt32BE(length, 0);
  const raw = Buffer.concat([head, body]);
  let pdu;
  try {
    pdu = new PDU(raw);
  } catch (e) {
    pdu = Object.create(PDU.prototype);
    pdu.command = 'malformed';
    pdu.command_length = length;
    pdu.command_id = raw.readUInt32BE(4);
    pdu.command_status = raw.readUInt32BE(8);
    pdu.sequence_number = raw.readUInt32BE(12);
    Object.defineProperty(pdu, 'parse_error', { value: e.message, enumerable: false });
  }
  Object.defineProperty(pdu, 'raw', { value: raw, enumerable: false });
  return pdu;
};

// ---------------------------------------------------------------------------
// Strict reading of submit_sm / deliver_sm bodies.

class Reader {
  constructor(buf, offset) {
    this.buf = buf;
    this.off = offset;
  }
  need(n, what) {
    if (this.off + n > this.buf.length) throw new Error(`${what} runs past the end of the PDU`);
  }
  u8(what) { this.need(1, what); return this.buf[this.off++]; }
  u16(what) { this.need(2, what); const v = this.buf.readUInt16BE(this.off); this.off += 2; return v; }
  cstr(what) {
    const end = this.buf.indexOf(0, this.off);
    if (end < 0) throw new Error(`${what} has no NUL terminator`);
    const s = this.buf.toString('latin1', this.off, end);
    this.off = end + 1;
    return s;
  }
  octets(n, what) { this.need(n, what); const v = this.buf.subarray(this.off, this.off + n); this.off += n; return v; }
}

function parseSmBody(raw) {
  const r = new Reader(raw, 16);
  const m = {};
  m.service_type = r.cstr('service_type');
  m.src_ton = r.u8('source_addr_ton');
  m.src_npi = r.u8('source_addr_npi');
  m.src = r.cstr('source_addr');
  m.dst_ton = r.u8('dest_addr_ton');
  m.dst_npi = r.u8('dest_addr_npi');
  m.dst = r.cstr('destination_addr');
  m.esm = r.u8('esm_class');
  m.pid = r.u8('protocol_id');
  m.priority = r.u8('priority_flag');
  m.schedule = r.cstr('schedule_delivery_time');
  m.validity = r.cstr('validity_period');
  m.registered = r.u8('registered_delivery');
  m.replace = r.u8('replace_if_present_flag');
  m.coding = r.u8('data_coding');
  m.default_msg_id = r.u8('sm_default_msg_id');
  const smLength = r.u8('sm_length');
  m.sm = Buffer.from(r.octets(smLength, 'short_message'));
  m.tlvs = new Map();
  m.tlvOrder = [];
  while (r.off < raw.length) {
    if (raw.length - r.off < 4) {
      const e = new Error('trailing octets after the last TLV');
      e.tlv = true;
      throw e;
    }
    const tag = r.u16('TLV tag');
    const len = r.u16('TLV length');
    if (r.off + len > raw.length) {
      const e = new Error(`TLV 0x${tag.toString(16).padStart(4, '0')} runs past the end of the PDU`);
      e.tlv = true;
      throw e;
    }
    m.tlvs.set(tag, Buffer.from(r.octets(len, 'TLV value')));
    m.tlvOrder.push(tag);
  }
  return m;
}

function tlvInt(m, tag) {
  const v = m.tlvs.get(tag);
  if (!v || v.length === 0) return undefined;
  return v.length >= 2 ? v.readUInt16BE(0) : v[0];
}

// What part of which long message a PDU is: UDH (8/16-bit reference), SAR
// TLVs, or a single message (possibly in message_payload).
function concatInfo(m) {
  const info = { kind: 'none', body: m.sm, udh: null, warning: undefined };
  if (m.esm & 0x40 && m.sm.length > 0) {
    const udhl = m.sm[0];
    if (udhl + 1 > m.sm.length) {
      info.warning = 'udh_longer_than_message';
    } else {
      info.udh = m.sm.subarray(0, udhl + 1);
      info.body = m.sm.subarray(udhl + 1);
      for (let i = 1; i + 1 < udhl + 1;) {
        const iei = m.sm[i];
        const len = m.sm[i + 1];
        const v = m.sm.subarray(i + 2, i + 2 + len);
        if (iei === 0x00 && len === 3) {
          Object.assign(info, { kind: 'udh8', ref: v[0], total: v[1], part: v[2] });
        } else if (iei === 0x08 && len === 4) {
          Object.assign(info, { kind: 'udh16', ref: v.readUInt16BE(0), total: v[2], part: v[3] });
        }
        i += 2 + len;
      }
    }
  }
  if (info.kind === 'none' && m.tlvs.has(TLV.sar_msg_ref_num)) {
    Object.assign(info, {
      kind: 'sar',
      ref: tlvInt(m, TLV.sar_msg_ref_num),
      total: tlvInt(m, TLV.sar_total_segments),
      part: tlvInt(m, TLV.sar_segment_seqnum),
    });
  }
  if (m.tlvs.has(TLV.message_payload)) {
    if (m.sm.length > 0) info.warning = 'message_payload_and_short_message';
    else info.body = m.tlvs.get(TLV.message_payload);
    if (info.kind === 'none') info.kind = 'payload';
  }
  return info;
}

// ---------------------------------------------------------------------------
// Character sets

function decodeUcs2(bytes) {
  const even = bytes.length & ~1;
  const b = Buffer.from(bytes.subarray(0, even));
  b.swap16();
  return b.toString('utf16le');
}

function encodeUcs2(text) {
  const b = Buffer.from(text, 'utf16le');
  b.swap16();
  return b;
}

function decodeGsmSeptets(septets) {
  let out = '';
  for (let i = 0; i < septets.length; ++i) {
    const s = septets[i] & 0x7F;
    if (s === 0x1B && i + 1 < septets.length) {
      const next = septets[++i] & 0x7F;
      out += GSM_EXTENSION[next] !== undefined ? GSM_EXTENSION[next] : GSM_BASIC[next];
    } else {
      out += s === 0x1B ? ' ' : GSM_BASIC[s];
    }
  }
  return out;
}

// Septets of a packed GSM user data; `skip` septets (UDH and fill bits) first.
function unpackSeptets(bytes, skip) {
  const count = Math.floor((bytes.length * 8) / 7);
  const septets = [];
  for (let i = 0; i < count; ++i) {
    const bit = i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = bytes[byte] >> shift;
    if (shift > 1 && byte + 1 < bytes.length) v |= bytes[byte + 1] << (8 - shift);
    septets.push(v & 0x7F);
  }
  // Seven octets hold eight septets: a final zero septet is padding, not '@'.
  if ((bytes.length * 8) % 7 === 0 && septets.length && septets[septets.length - 1] === 0) septets.pop();
  return septets.slice(skip);
}

function encodeGsmUnpacked(text) {
  const out = [];
  for (const ch of text) {
    const i = GSM_BASIC.indexOf(ch);
    if (i >= 0 && ch !== '\x1b') { out.push(i); continue; }
    const ext = Object.keys(GSM_EXTENSION).find((k) => GSM_EXTENSION[k] === ch);
    if (ext !== undefined) out.push(0x1B, Number(ext));
    else out.push(0x3F);  // '?'
  }
  return Buffer.from(out);
}

function encodeLatin1(text) {
  const out = [];
  for (const ch of text) {
    const c = ch.codePointAt(0);
    out.push(c < 256 ? c : 0x3F);
  }
  return Buffer.from(out);
}

// Text of one part; `whole` is the full short_message for packed GSM (fill
// bits after the UDH depend on its length).
function decodeText(coding, body, whole, udhLength) {
  if (coding === 0x08) return decodeUcs2(body);
  if (coding === 0x00) {
    if (settings.gsm === 'latin1') return body.toString('latin1');
    if (settings.gsm === 'packed') return decodeGsmSeptets(unpackSeptets(whole, Math.ceil((udhLength * 8) / 7)));
    return decodeGsmSeptets(body);
  }
  if (coding === 0x01) return body.toString('ascii');
  return body.toString('latin1');
}

// A part that ends where it must not: inside a UCS-2 unit, between the halves
// of a surrogate pair, or right after a GSM escape.
function badSplit(coding, body) {
  if (coding === 0x08) {
    if (body.length % 2) return true;
    if (body.length >= 2) {
      const last = body.readUInt16BE(body.length - 2);
      if (last >= 0xD800 && last <= 0xDBFF) return true;
    }
    if (body.length >= 2) {
      const first = body.readUInt16BE(0);
      if (first >= 0xDC00 && first <= 0xDFFF) return true;
    }
    return false;
  }
  if (coding === 0x00 && settings.gsm === 'unpacked') return body.length > 0 && body[body.length - 1] === 0x1B;
  return false;
}

// ---------------------------------------------------------------------------
// The USSD centre: sessions by member number (dial, press, hangup)

const ussdSessions = new Map();  // member number -> { session, seq }
let nextUssdSession = 1;

// The USSD parameters of a submit_sm, as event fields.
function ussdFields(m) {
  if (!m.tlvs.has(TLV.ussd_service_op)) return {};
  const f = { ussd_op: m.tlvs.get(TLV.ussd_service_op)[0] };
  const info = m.tlvs.get(TLV.its_session_info);
  if (info && info.length === 2) {
    f.session = info[0];
    f.ussd_seq = info[1] >> 1;
    f.end = info[1] & 1;
  }
  if (m.tlvs.has(TLV.user_message_reference)) f.umr = m.tlvs.get(TLV.user_message_reference).readUInt16BE(0);
  return f;
}

// A screen from the gateway: the member's session follows its sequence, and
// ends with the end operation or the end flag.
function ussdScreen(m, text) {
  const f = ussdFields(m);
  if (f.ussd_op === undefined) return;
  const open = ussdSessions.get(m.dst);
  const ends = f.ussd_op === settings.ussd_end_op || f.end === 1;
  if (open && (f.session === undefined || f.session === open.session)) {
    if (f.ussd_seq !== undefined) open.seq = f.ussd_seq;
    if (ends) ussdSessions.delete(m.dst);
  }
  emit('ussd_screen', Object.assign({ dst: m.dst, text, ends: ends ? 1 : 0, known: open ? 1 : 0 }, f));
}

// Sends the member's next USSD step in their session.
function ussdStep(kv, op, text, session, seq) {
  return sendMo(Object.assign({}, kv, {
    text, dst: kv.dst || '', op: String(op), session: String(session), ussd_seq: String(seq),
  }), 'ussd');
}

// ---------------------------------------------------------------------------
// Long message reassembly (submit_sm from the gateway)

const partials = new Map();

function acceptPart(m, info) {
  const udhLength = info.udh ? info.udh.length : 0;
  if (info.kind === 'none' || info.kind === 'payload' || !(info.total > 1)) {
    stats.messages++;
    const text = decodeText(m.coding, info.body, m.sm, udhLength);
    emit('message', Object.assign({
      src: m.src, dst: m.dst, text, parts: 1,
      coding: m.coding, concat: info.kind, bad_split: badSplit(m.coding, info.body) ? 1 : 0,
    }, ussdFields(m)));
    ussdScreen(m, text);
    return;
  }
  if (!(info.part >= 1 && info.part <= info.total)) {
    emit('session_error', { reason: `part ${info.part} of ${info.total} out of range`, ref: info.ref });
    stats.session_errors++;
    return;
  }
  const key = [m.src, m.dst, info.kind, info.ref, info.total].join('|');
  let entry = partials.get(key);
  if (!entry) {
    entry = { parts: new Map(), coding: m.coding };
    partials.set(key, entry);
  }
  if (entry.parts.has(info.part)) {
    stats.duplicates++;
    emit('duplicate_part', { src: m.src, dst: m.dst, concat: info.kind, ref: info.ref, part: info.part, total: info.total });
    return;
  }
  entry.parts.set(info.part, { body: Buffer.from(info.body), whole: m.sm, udhLength, coding: m.coding });
  if (entry.parts.size < info.total) return;
  partials.delete(key);
  const ordered = [...entry.parts.keys()].sort((a, b) => a - b).map((k) => entry.parts.get(k));
  let text;
  if (entry.coding === 0x08 || (entry.coding === 0x00 && settings.gsm === 'unpacked')) {
    // Joined before decoding so that a character split across parts shows up
    // whole (and bad_split tells that it was split).
    text = decodeText(entry.coding, Buffer.concat(ordered.map((p) => p.body)), null, 0);
  } else {
    text = ordered.map((p) => decodeText(p.coding, p.body, p.whole, p.udhLength)).join('');
  }
  stats.messages++;
  emit('message', {
    src: m.src, dst: m.dst, text, parts: info.total, coding: entry.coding, concat: info.kind,
    ref: info.ref, bad_split: ordered.some((p) => badSplit(p.coding, p.body)) ? 1 : 0,
  });
}

// ---------------------------------------------------------------------------
// Connections

const conns = new Map();
let nextConnId = 1;
let nextMessageNumber = 1000000000;  // hex 3B9ACA00: hex and decimal forms differ visibly
let nextMoRef = 1;
const acceptedTimes = [];  // times of submits let through, for throttle_rate

function boundConns() {
  return [...conns.values()].filter((c) => !c.closed && c.bound);
}

// The session that receives deliver_sm: conn=N if given, else the most
// recently bound receiver or transceiver.
function pickReceiver(connId) {
  if (connId !== undefined) {
    const c = conns.get(connId);
    return c && !c.closed && (c.bound === 'receiver' || c.bound === 'transceiver') ? c : null;
  }
  const candidates = boundConns().filter((c) => c.bound === 'receiver' || c.bound === 'transceiver');
  candidates.sort((a, b) => b.boundAt - a.boundAt);
  return candidates[0] || null;
}

function send(conn, pdu) {
  if (conn.closed) return false;
  const ok = conn.session.send(pdu);
  if (ok) debug(`conn ${conn.id} -> ${pdu.command} seq=${pdu.sequence_number} status=${pdu.command_status}`);
  return ok;
}

function startEnquireTimer(conn) {
  if (conn.elTimer) clearInterval(conn.elTimer);
  conn.elTimer = null;
  if (!settings.enquire_link_ms || !conn.bound || conn.closed) return;
  conn.elTimer = setInterval(() => {
    if (settings.silent === 'on' || conn.closed) return;
    send(conn, new PDU('enquire_link', {}));
  }, settings.enquire_link_ms);
}

function later(conn, ms, fn) {
  if (ms <= 0) {
    fn();
    return;
  }
  const t = setTimeout(() => {
    conn.timers.delete(t);
    fn();
  }, ms);
  conn.timers.add(t);
}

function onConnection(session) {
  const conn = {
    id: nextConnId++, session, bound: null, systemId: '', boundAt: 0, closed: false,
    pending: 0, delivers: new Map(), timers: new Set(), elTimer: null,
  };
  conns.set(conn.id, conn);
  stats.connects++;
  stats.sessions = conns.size;
  const socket = session.rootSocket();
  emit('connect', { conn: conn.id, remote: `${socket.remoteAddress}:${socket.remotePort}`, tls: args.tls ? 1 : 0 });

  session.on('pdu', (pdu) => {
    try {
      onPdu(conn, pdu);
    } catch (e) {
      stats.session_errors++;
      emit('session_error', { conn: conn.id, reason: 'handler: ' + e.message });
      debug(e.stack);
    }
  });
  session.on('error', (e) => {
    stats.session_errors++;
    emit('session_error', { conn: conn.id, reason: e.code || e.message });
    if (e.framing) session.destroy();
  });
  session.on('close', () => {
    if (conn.closed) return;
    conn.closed = true;
    for (const t of conn.timers) clearTimeout(t);
    conn.timers.clear();
    if (conn.elTimer) clearInterval(conn.elTimer);
    conns.delete(conn.id);
    stats.sessions = conns.size;
    if (settings.receipt_hold === 'on') {
      for (const d of conn.delivers.values()) {
        if (d.kind === 'receipt' && d.receipt) holdReceipt(d.receipt, 'unanswered');
      }
    }
    emit('close', { conn: conn.id });
  });
}

function onPdu(conn, pdu) {
  debug(`conn ${conn.id} <- ${pdu.command} seq=${pdu.sequence_number} status=${pdu.command_status}`);
  const silent = settings.silent === 'on';
  const seq = pdu.sequence_number;
  switch (pdu.command) {
    case 'bind_transceiver':
    case 'bind_transmitter':
    case 'bind_receiver':
      return onBind(conn, pdu, BIND_KINDS[pdu.command]);
    case 'submit_sm':
      return onSubmit(conn, pdu);
    case 'enquire_link':
      stats.enquire_links++;
      emit('enquire_link', { conn: conn.id, seq, answered: silent ? 0 : 1 });
      if (!silent) send(conn, pdu.response());
      return;
    case 'unbind':
      stats.unbinds++;
      emit('unbind', { conn: conn.id, seq, answered: silent ? 0 : 1 });
      if (!silent) {
        conn.bound = null;
        startEnquireTimer(conn);
        send(conn, pdu.response());
      }
      return;
    case 'deliver_sm_resp': {
      stats.deliver_resps++;
      const d = conn.delivers.get(seq);
      conn.delivers.delete(seq);
      emit('deliver_resp', {
        conn: conn.id, seq, status: pdu.command_status, kind: d ? d.kind : 'unknown',
        id: d && d.id !== undefined ? d.id : undefined,
      });
      return;
    }
    case 'generic_nack':
      stats.generic_nacks++;
      emit('generic_nack', { conn: conn.id, seq, status: pdu.command_status });
      return;
    case 'enquire_link_resp':
      emit('enquire_link_resp', { conn: conn.id, seq, status: pdu.command_status });
      return;
    case 'unbind_resp':
      emit('unbind_resp', { conn: conn.id, seq, status: pdu.command_status });
      conn.bound = null;
      startEnquireTimer(conn);
      return;
    case 'malformed':
      stats.session_errors++;
      emit('session_error', {
        conn: conn.id, reason: 'malformed PDU: ' + pdu.parse_error, seq,
        command_id: '0x' + (pdu.command_id >>> 0).toString(16).padStart(8, '0'),
      });
      if (!silent && !pdu.isResponse()) send(conn, new PDU('generic_nack', { sequence_number: seq, command_status: STATUS.INVCMDLEN }));
      return;
    default: {
      // Anything else: requests are refused, responses only reported.
      const answer = !silent && !pdu.isResponse();
      const status = STATUS.INVCMDID;
      emit('pdu', {
        conn: conn.id, command: pdu.command,
        command_id: '0x' + (pdu.command_id >>> 0).toString(16).padStart(8, '0'), seq,
        status: pdu.command_status, answered: answer ? 1 : 0,
      });
      if (answer) {
        send(conn, pdu.command === 'unknown'
          ? pdu.response({ command_status: status })
          : new PDU('generic_nack', { sequence_number: seq, command_status: status }));
      }
    }
  }
}

function onBind(conn, pdu, kind) {
  const silent = settings.silent === 'on';
  let status = STATUS.OK;
  if (conn.bound) status = STATUS.ALYBND;
  else if (settings.bind === 'reject') status = settings.bind_status;
  else if (settings.bind_reject_count > 0) {
    settings.bind_reject_count--;
    status = settings.bind_status;
  } else if (settings.password && pdu.password !== settings.password) status = STATUS.INVPASWD;
  if (silent) {
    emit('bind', { conn: conn.id, kind, system_id: pdu.system_id, accepted: 0, status: -1, answered: 0 });
    return;
  }
  if (status === STATUS.OK) {
    conn.bound = kind;
    conn.systemId = pdu.system_id;
    conn.boundAt = performance.now();
    stats.binds++;
    startEnquireTimer(conn);
    send(conn, pdu.response({ system_id: args.systemId, sc_interface_version: 0x34 }));
    if (kind !== 'transmitter' && heldReceipts.length > 0) {
      for (const r of heldReceipts.splice(0)) sendReceipt(Object.assign({}, r, { conn: undefined }));
    }
  } else {
    stats.bind_rejects++;
    send(conn, pdu.response({ command_status: status }));
  }
  emit('bind', {
    conn: conn.id, kind, system_id: pdu.system_id, accepted: status === STATUS.OK ? 1 : 0,
    status, answered: 1,
  });
}

function newMessageId() {
  const n = settings.id_start !== null ? settings.id_start : nextMessageNumber;
  settings.id_start = null;
  nextMessageNumber = n + 1;
  let str;
  if (settings.ids === 'uuid') str = crypto.randomUUID();
  else if (settings.ids === 'hex') str = n.toString(16).toUpperCase();
  else str = String(n);
  if (settings.ids !== 'uuid' && settings.id_pad) str = str.padStart(settings.id_pad, '0');
  return { str, n };
}

function receiptIdFor(id) {
  if (settings.ids === 'uuid' || settings.receipt_ids === 'same') return id.str;
  return settings.receipt_ids === 'hex' ? id.n.toString(16).toUpperCase() : String(id.n);
}

function throttled() {
  if (!settings.throttle_rate) return false;
  const t = performance.now();
  while (acceptedTimes.length && t - acceptedTimes[0] >= 1000) acceptedTimes.shift();
  return acceptedTimes.length >= settings.throttle_rate;
}

function onSubmit(conn, pdu) {
  stats.submits++;
  const seq = pdu.sequence_number;
  let m;
  try {
    m = parseSmBody(pdu.raw);
  } catch (e) {
    stats.session_errors++;
    emit('session_error', { conn: conn.id, reason: 'bad submit_sm: ' + e.message, seq });
    if (settings.silent !== 'on') {
      send(conn, new PDU('submit_sm_resp', {
        sequence_number: seq, command_status: e.tlv ? STATUS.INVTLVSTREAM : STATUS.INVCMDLEN,
      }));
    }
    return;
  }
  const info = concatInfo(m);

  let status = STATUS.OK;
  let dropped = false;
  let id = null;
  if (settings.silent === 'on') dropped = true;
  else if (conn.bound !== 'transmitter' && conn.bound !== 'transceiver') status = STATUS.INVBNDSTS;
  else if (settings.drop_resp_next > 0) {
    settings.drop_resp_next--;
    dropped = true;
  } else if (settings.msgqful_next > 0) {
    settings.msgqful_next--;
    status = STATUS.MSGQFUL;
  } else if (throttled()) status = STATUS.THROTTLED;
  else {
    if (settings.throttle_rate) acceptedTimes.push(performance.now());
    status = settings.submit_status;
    if (status === STATUS.OK) id = newMessageId();
  }

  if (dropped) stats.dropped++;
  else if (status === STATUS.OK) stats.submit_ok++;
  else stats.submit_failed++;
  if (status === STATUS.THROTTLED) stats.throttled++;
  if (status === STATUS.MSGQFUL) stats.msgqful++;

  const outstanding = conn.pending + 1;
  emit('submit', {
    conn: conn.id, seq, id: id ? id.str : '', status: dropped ? -1 : status, dropped: dropped ? 1 : 0,
    src: m.src, dst: m.dst, src_ton: m.src_ton, src_npi: m.src_npi, dst_ton: m.dst_ton,
    dst_npi: m.dst_npi, service_type: m.service_type, coding: m.coding, esm: m.esm,
    registered: m.registered, pid: m.pid, sm_hex: m.sm.toString('hex'),
    payload_hex: m.tlvs.has(TLV.message_payload) ? m.tlvs.get(TLV.message_payload).toString('hex') : undefined,
    tlvs: m.tlvOrder.map((t) => '0x' + t.toString(16).padStart(4, '0')).join(',') || undefined,
    concat: info.kind, ref: info.ref, part: info.part, total: info.total, warning: info.warning,
    outstanding,
  });
  if (status === STATUS.OK && !dropped) acceptPart(m, info);
  if (dropped) return;

  conn.pending++;
  const respond = () => {
    conn.pending--;
    if (conn.closed) return;
    if (settings.silent === 'on') {
      emit('submit_resp', { conn: conn.id, seq, id: id ? id.str : '', status, sent: 0 });
      return;
    }
    send(conn, pdu.response(status === STATUS.OK ? { message_id: id.str } : { command_status: status }));
    emit('submit_resp', { conn: conn.id, seq, id: id ? id.str : '', status, sent: 1 });
  };

  const stat = settings.receipt_stat;
  const wanted = (m.registered & 0x03) === 0x01 || ((m.registered & 0x03) === 0x02 && stat !== 'DELIVRD');
  if (status !== STATUS.OK || settings.receipts !== 'on' || !wanted) {
    later(conn, settings.resp_delay_ms, respond);
    return;
  }
  const info2 = {
    id: receiptIdFor(id), stat, err: settings.receipt_err, tlvs: settings.receipt_tlvs === 'on',
    coding: settings.receipt_coding, src: m.dst, dst: m.src,
    text: decodeText(m.coding, info.body, m.sm, info.udh ? info.udh.length : 0),
    submitted: new Date(),
  };
  const receipt = () => {
    if (settings.silent !== 'on') sendReceipt(info2);
  };
  if (settings.receipt_before_resp === 'on') {
    later(conn, settings.receipt_delay_ms, () => {
      receipt();
      later(conn, settings.resp_delay_ms, respond);
    });
  } else {
    later(conn, settings.resp_delay_ms, () => {
      respond();
      // Not tied to this connection: the receipt may go to another session.
      if (settings.receipt_delay_ms > 0) setTimeout(receipt, settings.receipt_delay_ms);
      else receipt();
    });
  }
}

// ---------------------------------------------------------------------------
// SMSC-originated deliver_sm

function smppDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getFullYear() % 100) + p(d.getMonth() + 1) + p(d.getDate()) + p(d.getHours()) + p(d.getMinutes());
}

function sendDeliver(conn, options, record) {
  const pdu = new PDU('deliver_sm', Object.assign({
    service_type: '', source_addr_ton: 1, source_addr_npi: 1, dest_addr_ton: 0,
    dest_addr_npi: 0, protocol_id: 0, priority_flag: 0, registered_delivery: 0,
  }, options));
  if (!send(conn, pdu)) return null;
  stats.delivers++;
  conn.delivers.set(pdu.sequence_number, record);
  return pdu.sequence_number;
}

// r: { id, stat, err, tlvs, coding, src, dst, text, submitted, conn }
function holdReceipt(r, reason) {
  heldReceipts.push(r);
  emit('receipt_held', { id: r.id, stat: r.stat, reason });
}

function sendReceipt(r) {
  const conn = pickReceiver(r.conn);
  if (!conn && settings.receipt_hold === 'on') {
    holdReceipt(r, 'no_receiver');
    return { held: 1 };
  }
  if (!conn) {
    emit('receipt_failed', { id: r.id, stat: r.stat, reason: 'no_receiver' });
    return { error: 'no_receiver' };
  }
  const err = String(r.err).padStart(3, '0');
  const delivered = r.stat === 'DELIVRD' ? '001' : '000';
  const sample = [...(r.text || '')].slice(0, 20).map((c) => (c >= ' ' && c <= '~' ? c : '?')).join('');
  const submitted = r.submitted || new Date();
  const text = `id:${r.id} sub:001 dlvrd:${delivered} submit date:${smppDate(submitted)} ` +
    `done date:${smppDate(new Date())} stat:${r.stat} err:${err} text:${sample}`;
  const options = {
    source_addr: r.src || '', destination_addr: r.dst || '', esm_class: 0x04,
    // ASCII whatever data_coding says, as real SMSCs do.
    data_coding: r.coding || 0, short_message: Buffer.from(text, 'latin1'),
  };
  if (r.tlvs) {
    options.receipted_message_id = r.id;
    options.message_state = MESSAGE_STATE[r.stat] || MESSAGE_STATE.UNKNOWN;
    if (Number(r.err)) options.network_error_code = Buffer.from([0x03, (r.err >> 8) & 0xFF, r.err & 0xFF]);
  }
  const seq = sendDeliver(conn, options, { kind: 'receipt', id: r.id, receipt: r });
  if (seq === null) {
    emit('receipt_failed', { id: r.id, stat: r.stat, reason: 'not_writable' });
    return { error: 'not_writable' };
  }
  stats.receipts++;
  emit('receipt_sent', { conn: conn.id, seq, id: r.id, stat: r.stat, err, coding: options.data_coding });
  return { conn: conn.id, seq };
}

// Splits text into deliver_sm option sets (short_message, esm bits, TLVs).
function buildMoParts(p) {
  const coding = p.coding;
  let units;     // encoded code units (octets, or UCS-2 units as 2-byte buffers)
  let unitSize;
  if (p.hex !== undefined) {
    units = [...Buffer.from(p.hex, 'hex')].map((b) => Buffer.from([b]));
    unitSize = 1;
  } else if (coding === 0x08) {
    const b = encodeUcs2(p.text);
    units = [];
    for (let i = 0; i < b.length; i += 2) units.push(b.subarray(i, i + 2));
    unitSize = 2;
  } else {
    const b = coding === 0x00 && settings.mo_gsm === 'unpacked' ? encodeGsmUnpacked(p.text) : encodeLatin1(p.text);
    units = [...b].map((x) => Buffer.from([x]));
    unitSize = 1;
  }
  const per = p.part_len || {
    udh8: unitSize === 2 ? 67 : 153, udh16: unitSize === 2 ? 66 : 152, sar: unitSize === 2 ? 70 : 160,
  }[p.split];
  if (!p.split || p.split === 'payload') {
    const all = Buffer.concat(units);
    if (p.split === 'payload') return [{ short_message: Buffer.alloc(0), message_payload: all, esm: 0 }];
    if (all.length > 254) throw new Error('text_too_long: use split=udh8|udh16|sar|payload');
    return [{ short_message: all, esm: 0 }];
  }
  const chunks = [];
  for (let i = 0; i < units.length;) {
    let end = Math.min(i + per, units.length);
    // Never end a UCS-2 part on the first half of a surrogate pair, nor a GSM
    // part on an escape.
    if (end < units.length && end - 1 > i) {
      const last = units[end - 1];
      if (unitSize === 2 && last.readUInt16BE(0) >= 0xD800 && last.readUInt16BE(0) <= 0xDBFF) end--;
      else if (unitSize === 1 && coding === 0x00 && settings.mo_gsm === 'unpacked' && last[0] === 0x1B) end--;
    }
    chunks.push(Buffer.concat(units.slice(i, end)));
    i = end;
  }
  if (chunks.length === 0) chunks.push(Buffer.alloc(0));
  const total = chunks.length;
  if (total > 255) throw new Error('too_many_parts');
  let ref = p.ref;
  if (ref === undefined) {
    ref = nextMoRef;
    nextMoRef = (nextMoRef % 255) + 1;  // 1..255 fits every kind of reference
  }
  return chunks.map((chunk, i) => {
    const seq = i + 1;
    if (p.split === 'udh8') {
      return { short_message: Buffer.concat([Buffer.from([5, 0, 3, ref & 0xFF, total, seq]), chunk]), esm: 0x40 };
    }
    if (p.split === 'udh16') {
      return { short_message: Buffer.concat([Buffer.from([6, 8, 4, (ref >> 8) & 0xFF, ref & 0xFF, total, seq]), chunk]), esm: 0x40 };
    }
    return { short_message: chunk, esm: 0, sar_msg_ref_num: ref & 0xFFFF, sar_total_segments: total, sar_segment_seqnum: seq };
  });
}

function sendMo(kv, kindName) {
  const text = kv.text !== undefined ? kv.text : '';
  const int = (k, min, max, def) => (kv[k] === undefined ? def : intIn(min, max)(kv[k]));
  let coding = int('coding', 0, 255, undefined);
  if (coding === undefined) coding = kv.hex === undefined && /[^\u0000-\u00FF]/.test(text) ? 8 : 0;
  const split = kv.split === undefined ? undefined : enumOf('udh8', 'udh16', 'sar', 'payload')(kv.split);
  if (kv.hex !== undefined && !/^([0-9a-fA-F]{2})*$/.test(kv.hex)) throw new Error('bad_hex');
  const parts = buildMoParts({
    text, coding, split, hex: kv.hex, part_len: int('part_len', 1, 254, undefined), ref: int('ref', 0, 65535, undefined),
  });
  const conn = pickReceiver(int('conn', 1, 1e9, undefined));
  if (!conn) throw new Error('no_receiver');
  const esm = int('esm', 0, 255, 0);
  const common = {
    service_type: kv.service_type !== undefined ? kv.service_type : kindName === 'ussd' ? 'USSD' : '',
    source_addr_ton: int('src_ton', 0, 255, 1), source_addr_npi: int('src_npi', 0, 255, 1),
    source_addr: kv.src || '', dest_addr_ton: int('dst_ton', 0, 255, 0),
    dest_addr_npi: int('dst_npi', 0, 255, 0), destination_addr: kv.dst || '', data_coding: coding,
  };
  const op = int(kindName === 'ussd' ? 'op' : 'ussd_op', 0, 255, undefined);
  if (op !== undefined) common.ussd_service_op = op;
  const session = int('session', 0, 255, undefined);
  if (session !== undefined) {
    const seqNo = int('ussd_seq', 0, 127, 0);
    const end = int('end', 0, 1, 0);
    common.its_session_info = Buffer.from([session, (seqNo << 1) | end]);
  }
  const umr = int('umr', 0, 65535, undefined);
  if (umr !== undefined) common.user_message_reference = umr;
  const seqs = [];
  parts.forEach((part, i) => {
    const options = Object.assign({}, common, part, { esm_class: esm | part.esm });
    delete options.esm;
    const seq = sendDeliver(conn, options, { kind: kindName });
    if (seq === null) throw new Error('not_writable');
    seqs.push(seq);
    emit('deliver_sent', { conn: conn.id, seq, kind: kindName, part: i + 1, total: parts.length });
  });
  return { conn: conn.id, seqs: seqs.join(','), parts: parts.length };
}

// ---------------------------------------------------------------------------
// Commands from stdin

function parseCommand(line) {
  const tokens = line.trim().split(/ +/).filter(Boolean);
  const name = tokens.shift() || '';
  const kv = {};
  for (const t of tokens) {
    const eq = t.indexOf('=');
    const k = eq < 0 ? t : t.slice(0, eq);
    const v = eq < 0 ? '' : t.slice(eq + 1);
    try {
      kv[k] = decodeURIComponent(v);
    } catch (e) {
      throw new Error(`bad_encoding:${k}`);
    }
  }
  return { name, kv };
}

function targets(kv) {
  if (kv.conn === undefined) return [...conns.values()].filter((c) => !c.closed);
  const c = conns.get(intIn(1, 1e9)(kv.conn));
  if (!c || c.closed) throw new Error('no_such_conn');
  return [c];
}

const COMMANDS = {
  set(kv) {
    const next = Object.assign({}, settings);
    for (const [k, v] of Object.entries(kv)) {
      const spec = SETTINGS[k];
      if (!spec) throw new Error('unknown_key:' + k);
      try {
        next[k] = spec.parse(v);
      } catch (e) {
        throw new Error(`bad_value:${k}:${e.message}`);
      }
    }
    const elChanged = next.enquire_link_ms !== settings.enquire_link_ms;
    settings = next;
    if (elChanged) for (const c of conns.values()) startEnquireTimer(c);
    return {};
  },
  get() {
    const fields = {};
    for (const k of Object.keys(SETTINGS)) fields[k] = settings[k] === null ? '' : settings[k];
    writeLine(format('settings', fields));
    return {};
  },
  reset() {
    resetSettings();
    heldReceipts.length = 0;
    ussdSessions.clear();
    for (const c of conns.values()) startEnquireTimer(c);
    return {};
  },
  mo(kv) {
    return sendMo(kv, 'mo');
  },
  ussd(kv) {
    if (kv.op === undefined) throw new Error('missing_key:op');
    return sendMo(kv, 'ussd');
  },
  dial(kv) {  // the member dials a code: a new session
    if (!kv.src) throw new Error('missing_key:src');
    if (!kv.code) throw new Error('missing_key:code');
    const session = nextUssdSession;
    nextUssdSession = nextUssdSession >= 255 ? 1 : nextUssdSession + 1;
    ussdSessions.set(kv.src, { session, seq: 0 });
    // The destination is the service code; the text is what was dialled.
    const service = '*' + kv.code.replace(/^\*/, '').split(/[*#]/)[0] + '#';
    const r = ussdStep(Object.assign({ dst: service }, kv), settings.ussd_begin_op, kv.code, session, 0);
    return Object.assign(r, { session });
  },
  press(kv) {  // the member answers the screen in their open session
    if (!kv.src) throw new Error('missing_key:src');
    const open = ussdSessions.get(kv.src);
    if (!open) throw new Error('no_session');
    open.seq = (open.seq + 1) & 0x7F;
    const r = ussdStep(kv, settings.ussd_continue_op, kv.text || '', open.session, open.seq);
    return Object.assign(r, { session: open.session, ussd_seq: open.seq });
  },
  hangup(kv) {  // the centre ends the member's session (timeout, abort)
    if (!kv.src) throw new Error('missing_key:src');
    const open = ussdSessions.get(kv.src);
    if (!open) throw new Error('no_session');
    ussdSessions.delete(kv.src);
    const r = ussdStep(kv, settings.ussd_abort_op, '', open.session, (open.seq + 1) & 0x7F);
    return Object.assign(r, { session: open.session });
  },
  receipt(kv) {
    if (kv.id === undefined) throw new Error('missing_key:id');
    const int = (k, min, max, def) => (kv[k] === undefined ? def : intIn(min, max)(kv[k]));
    const r = sendReceipt({
      id: kv.id, stat: kv.stat || 'DELIVRD', err: int('err', 0, 0xFFFF, 0),
      tlvs: kv.tlvs === undefined ? settings.receipt_tlvs === 'on' : onOff(kv.tlvs) === 'on',
      coding: int('coding', 0, 255, settings.receipt_coding), src: kv.src || '', dst: kv.dst || '',
      text: kv.text || '', conn: int('conn', 1, 1e9, undefined),
    });
    if (r.error) throw new Error(r.error);
    return r;
  },
  raw(kv) {
    if (kv.hex === undefined || !/^([0-9a-fA-F]{2})+$/.test(kv.hex)) throw new Error('bad_hex');
    let c;
    if (kv.conn !== undefined) c = targets(kv)[0];
    else {
      const open = [...conns.values()].filter((x) => !x.closed);
      open.sort((a, b) => (b.bound ? 1 : 0) - (a.bound ? 1 : 0) || b.id - a.id);
      c = open[0];
    }
    if (!c) throw new Error('no_connection');
    c.session.socket.write(Buffer.from(kv.hex, 'hex'));
    return { conn: c.id };
  },
  unbind(kv) {
    const list = targets(kv).filter((c) => c.bound);
    if (!list.length) throw new Error('no_bound_session');
    for (const c of list) send(c, new PDU('unbind', {}));
    return { sessions: list.length };
  },
  drop(kv) {
    const list = targets(kv);
    for (const c of list) c.session.destroy();
    return { sessions: list.length };
  },
  stats() {
    const fields = Object.assign({}, stats, { partials: partials.size });
    writeLine(format('stats', fields));
    return {};
  },
  sessions() {
    for (const c of conns.values()) {
      writeLine(format('session', { conn: c.id, bound: c.bound || 'none', system_id: c.systemId, pending: c.pending }));
    }
    return { count: conns.size };
  },
  quit() {
    writeLine('ok cmd=quit');
    shutdown(0);
    return null;
  },
};

function onCommandLine(line) {
  if (!line.trim()) return;
  let name = '';
  try {
    const parsed = parseCommand(line);
    name = parsed.name;
    const fn = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : null;
    if (!fn) throw new Error('unknown_command');
    const extra = fn(parsed.kv);
    if (extra !== null) writeLine(format('ok', Object.assign({ cmd: name }, extra)));
  } catch (e) {
    writeLine(format('error', { cmd: name, reason: e.message }));
  }
}

// ---------------------------------------------------------------------------
// Start

let server;
let shuttingDown = false;

function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const c of conns.values()) c.session.destroy();
  if (server) server.close();
  process.exit(code);
}

function start() {
  const options = {};
  if (args.tls) {
    options.cert = fs.readFileSync(args.cert);
    options.key = fs.readFileSync(args.key);
  }
  server = smpp.createServer(options, onConnection);
  server.on('error', (e) => {
    process.stderr.write('smsc-sim: server error: ' + e.message + '\n');
    shutdown(1);
  });
  if (args.tls) {
    server.on('tlsClientError', (e) => emit('tls_error', { reason: e.code || e.message }));
  }
  server.listen(args.port, args.host, () => {
    writeLine(format('ready', { port: server.address().port, tls: args.tls ? 1 : 0 }));
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on('line', onCommandLine);
    rl.on('close', () => shutdown(0));  // the driver went away
  });
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('uncaughtException', (e) => {
  // Keep serving: one bad event must not take the simulator down mid-test.
  stats.session_errors++;
  emit('session_error', { reason: 'uncaught: ' + e.message });
  process.stderr.write('smsc-sim: uncaught ' + (e.stack || e) + '\n');
});

try {
  start();
} catch (e) {
  process.stderr.write('smsc-sim: cannot start: ' + e.message + '\n');
  process.exit(1);
}
