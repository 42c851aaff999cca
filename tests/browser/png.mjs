// Reads the PNG screenshots chromium takes, to tell a page that drew
// something from a blank one. Only what chromium writes is decoded (8 bits
// per channel, RGB or RGBA, not interlaced); anything else is refused with
// a reason rather than guessed at. Written here, on node's zlib, so the
// check needs no image package.
import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Decodes `bytes` to { width, height, channels, pixels } (pixels: a Buffer,
// `channels` bytes per pixel, rows top to bottom). Throws Error with what is
// wrong for anything that is not such a PNG.
export function decodePng(bytes) {
  if (bytes.length < SIGNATURE.length || !bytes.subarray(0, 8).equals(SIGNATURE))
    throw new Error('not a PNG (no signature)');
  let at = 8;
  let header = null;
  const data = [];
  let ended = false;
  while (!ended) {
    // Every chunk: length, type, data, CRC; each length checked against what is left.
    if (bytes.length - at < 12) throw new Error(`PNG truncated at byte ${at}`);
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (length > bytes.length - at - 12) throw new Error(`PNG chunk ${type} runs past the end`);
    const body = bytes.subarray(at + 8, at + 8 + length);
    at += 12 + length;
    if (type === 'IHDR') {
      if (length !== 13) throw new Error('PNG IHDR of the wrong length');
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body[8],
        colour: body[9],
        interlace: body[12],
      };
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      ended = true;
    }
  }
  if (!header) throw new Error('PNG without IHDR');
  const { width, height, depth, colour, interlace } = header;
  if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0)
    throw new Error(`PNG kind not decoded here (depth ${depth}, colour type ${colour}, interlace ${interlace})`);
  if (width === 0 || height === 0 || width * height > 64 * 1024 * 1024)
    throw new Error(`PNG size ${width}x${height} out of range`);
  const channels = colour === 6 ? 4 : 3;
  const stride = width * channels;
  const raw = inflateSync(Buffer.concat(data));
  if (raw.length !== height * (stride + 1))
    throw new Error(`PNG data is ${raw.length} bytes, ${height * (stride + 1)} expected`);

  // Each row starts with its filter type; the filters predict a byte from
  // its left (a), upper (b) and upper-left (c) neighbours.
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; ++y) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    const up = (y - 1) * stride;
    for (let x = 0; x < stride; ++x) {
      const a = x >= channels ? pixels[out + x - channels] : 0;
      const b = y > 0 ? pixels[up + x] : 0;
      const c = y > 0 && x >= channels ? pixels[up + x - channels] : 0;
      let predicted;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      }
      pixels[out + x] = (line[x] + predicted) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

// What an image shows, for the blank check: how many distinct colours
// (counted up to `cap`), the most common colour (the background) and the
// fraction of pixels of any other colour.
export function pictureStats(image, cap = 4096) {
  const { width, height, channels, pixels } = image;
  const counts = new Map();
  let capped = false;
  for (let i = 0; i < width * height; ++i) {
    const o = i * channels;
    // Alpha counts too: a transparent page is as blank as a white one.
    const key = channels === 4
      ? pixels.readUInt32BE(o)
      : (pixels[o] << 16) | (pixels[o + 1] << 8) | pixels[o + 2];
    const n = counts.get(key);
    if (n !== undefined) counts.set(key, n + 1);
    else if (counts.size < cap) counts.set(key, 1);
    else capped = true;
  }
  let background = 0, most = 0;
  for (const [key, n] of counts) if (n > most) { most = n; background = key; }
  return {
    width,
    height,
    colours: counts.size,
    colours_capped: capped,
    background: '#' + background.toString(16).padStart(channels * 2, '0'),
    foreground_fraction: 1 - most / (width * height),
  };
}

// Whether the stats are of a page that shows something: at least
// `minColours` colours and `minForeground` of its pixels not background.
export function notBlank(stats, minColours = 3, minForeground = 0.01) {
  if (stats.colours < minColours) return `only ${stats.colours} colour(s)`;
  if (stats.foreground_fraction < minForeground)
    return `only ${(stats.foreground_fraction * 100).toFixed(2)} % of pixels differ from the background`;
  return null;
}
