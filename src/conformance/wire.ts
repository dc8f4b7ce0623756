import type { WireDirection, WireEntry } from './types.js';
import { FrameReader, opcodeName, type ParsedFrame } from './frames.js';

const HEX_PREVIEW_BYTES = 48;
const TEXT_PREVIEW_CHARS = 60;
/** Past this many entries a case's log keeps only a tail; 4 MiB in 64-byte fragments would otherwise log 65536 lines. */
const MAX_ENTRIES = 160;

export function hexPreview(b: Buffer, max = HEX_PREVIEW_BYTES): string {
  const shown = b.subarray(0, max).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return b.length > max ? `${shown} … (+${b.length - max} bytes)` : shown;
}

export function payloadPreview(opcode: number, payload: Buffer): string {
  if (payload.length === 0) return '';
  if (opcode === 8) {
    if (payload.length < 2) return ` body=${hexPreview(payload)}`;
    const reason = payload.subarray(2);
    return ` code=${payload.readUInt16BE(0)}${reason.length ? ` reason=${quote(reason)}` : ''}`;
  }
  if (opcode === 1 || opcode === 0 || opcode === 9 || opcode === 10) {
    const printable = payload.subarray(0, TEXT_PREVIEW_CHARS * 4);
    if (/^[\x20-\x7e]*$/.test(printable.toString('latin1'))) return ` ${quote(payload)}`;
  }
  return '';
}

function quote(b: Buffer): string {
  const s = b.toString('utf8');
  return JSON.stringify(s.length > TEXT_PREVIEW_CHARS ? `${s.slice(0, TEXT_PREVIEW_CHARS)}…` : s);
}

export function describeFrame(f: {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}): string {
  const flags = [f.fin ? 'FIN' : 'no-FIN'];
  if (f.rsv & 4) flags.push('RSV1');
  if (f.rsv & 2) flags.push('RSV2');
  if (f.rsv & 1) flags.push('RSV3');
  if (f.masked) flags.push('masked');
  return `${opcodeName(f.opcode)} [${flags.join(' ')}] len=${f.payload.length}${payloadPreview(f.opcode, f.payload)}`;
}

export class WireLog {
  readonly entries: WireEntry[] = [];
  private dropped = 0;
  private readonly start = performance.now();

  add(dir: WireDirection, kind: WireEntry['kind'], text: string, raw?: Buffer, totalBytes?: number): void {
    const entry: WireEntry = { t: Math.round((performance.now() - this.start) * 10) / 10, dir, kind, text };
    if (raw) {
      entry.hex = hexPreview(raw);
      entry.bytes = totalBytes ?? raw.length;
    }
    if (this.entries.length >= MAX_ENTRIES) {
      // Keep the head (how it started) and a rolling tail (how it ended); the middle is repetition.
      this.entries.splice(MAX_ENTRIES / 2, 1);
      this.dropped++;
    }
    this.entries.push(entry);
  }

  note(text: string): void {
    this.add('note', 'note', text);
  }

  frameIn(f: ParsedFrame): void {
    this.add('recv', 'frame', describeFrame(f), Buffer.concat([f.header, f.payload.subarray(0, HEX_PREVIEW_BYTES)]),
      f.header.length + f.payload.length,
    );
  }

  /** Final list, with a marker where the middle was elided. */
  finish(): WireEntry[] {
    if (this.dropped === 0) return this.entries;
    const out = this.entries.slice();
    out.splice(MAX_ENTRIES / 2, 0, { t: out[MAX_ENTRIES / 2]?.t ?? 0, dir: 'note', kind: 'note', text: `… ${this.dropped} entries elided …` });
    return out;
  }
}

/** Decodes a chunk we are about to write when it holds whole frames; otherwise says it is a piece. */
export function describeChunk(b: Buffer): string {
  try {
    const r = new FrameReader(b.length);
    const frames = r.push(b);
    if (frames.length > 0 && r.pending === 0) return frames.map(describeFrame).join(' + ');
  } catch {
    // Not frame-shaped: fall through to the plain description.
  }
  return `${b.length} bytes (a piece of a frame)`;
}
