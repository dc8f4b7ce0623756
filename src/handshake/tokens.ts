import { HandshakeError } from './errors.js';

/*
 * Hand-written scanners for the header grammars the handshake reads (RFC 9110 §5.6 lists, tokens
 * and quoted-strings; RFC 6455 §9.1 extensions). Each one walks the input exactly once and never
 * backtracks, so a hostile megabyte header costs a megabyte of work, not a megabyte squared.
 */

/** A single parameter of an extension offer, in wire order. */
export type ExtensionParam = [name: string, value: string | true];

/**
 * One element of a `Sec-WebSocket-Extensions` header. `params` is an ordered array rather than a
 * Map on purpose: RFC 7692 §7 requires rejecting an offer that repeats a parameter, which a Map
 * would silently hide. A parameter without `=value` has the value `true`.
 */
export interface ExtensionOffer {
  name: string;
  params: ExtensionParam[];
}

/** What {@link formatExtensions} takes: params may be a Map, an array of pairs, and numbers. */
export interface ExtensionToFormat {
  name: string;
  params?: Iterable<readonly [string, string | number | true]>;
}

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** RFC 9110 §5.6.2 tchar. */
export function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** RFC 9110 §5.6.2 token: one or more tchars. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * True when `s` cannot be written into a header value as-is: CR, LF, NUL, any other control
 * character except HTAB, DEL, or anything above U+00FF. The last matters as much as CR/LF: header
 * bytes are written as latin1, which keeps only the low byte, so U+010A would go out as a bare LF.
 */
export function hasUnsafeHeaderChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return true;
  }
  return false;
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Strips leading and trailing SP/HTAB (a hand loop: `/[ \t]+$/` is quadratic on hostile input). */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function describe(value: string, i: number): string {
  if (i >= value.length) return 'unexpected end of input';
  const c = value.charCodeAt(i);
  const shown = c >= 0x21 && c <= 0x7e ? `'${value[i]}'` : `0x${c.toString(16).padStart(2, '0')}`;
  return `unexpected character ${shown} at position ${i}`;
}

function fail(header: string, value: string, i: number): never {
  throw new HandshakeError(400, `Invalid ${header} header: ${describe(value, i)}`);
}

/** Index just past the token starting at `i` (equal to `i` when there is none). */
function tokenEnd(value: string, i: number): number {
  while (i < value.length && isTchar(value.charCodeAt(i))) i++;
  return i;
}

function skipOws(value: string, i: number): number {
  while (i < value.length && isOws(value.charCodeAt(i))) i++;
  return i;
}

/** The start of the next list element from `i`: OWS and empty elements (RFC 9110 §5.6.1) skipped; `value.length` at the end. */
function nextElement(value: string, i: number): number {
  for (;;) {
    i = skipOws(value, i);
    if (i >= value.length || value.charCodeAt(i) !== 0x2c) return i;
    i++;
  }
}

/**
 * Parses a comma-separated list of tokens (`Connection`, `Upgrade` names, `Sec-WebSocket-Protocol`).
 * As RFC 9110 §5.6.1 asks of recipients, empty elements and OWS around commas are tolerated, so
 * `"a,, b ,"` is `['a', 'b']` and `""` is `[]`; whether an empty list is acceptable is the caller's
 * call. Case is preserved. Throws HandshakeError 400 on anything that is not a token.
 */
export function parseTokenList(value: string, header = 'token list'): string[] {
  const out: string[] = [];
  let i = 0;
  const len = value.length;
  for (;;) {
    i = nextElement(value, i);
    if (i >= len) break;
    const end = tokenEnd(value, i);
    if (end === i) fail(header, value, i);
    out.push(value.slice(i, end));
    i = skipOws(value, end);
    if (i >= len) break;
    if (value.charCodeAt(i) !== 0x2c) fail(header, value, i);
    i++;
  }
  return out;
}

/** qdtext (RFC 9110 §5.6.4): HTAB, SP, '!', '#'-'[', ']'-'~', obs-text. */
function isQdtext(c: number): boolean {
  return c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

/** The character after a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text. */
function isQuotedPairChar(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}

const EXT = 'Sec-WebSocket-Extensions';

/** Reads the quoted-string opening at `i`; returns the unescaped text and the index after it. */
function readQuoted(value: string, i: number): [string, number] {
  let text = '';
  let start = ++i;
  while (i < value.length) {
    const c = value.charCodeAt(i);
    if (c === 0x22) return [text + value.slice(start, i), i + 1];
    if (c === 0x5c) {
      text += value.slice(start, i);
      i++;
      if (i >= value.length || !isQuotedPairChar(value.charCodeAt(i))) fail(EXT, value, i);
      text += value[i];
      start = ++i;
    } else if (isQdtext(c)) {
      i++;
    } else {
      fail(EXT, value, i);
    }
  }
  return fail(EXT, value, i);
}

/**
 * Parses a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1). When the header was sent several
 * times, join the values with `,` first (the head parser already does). OWS is allowed around
 * `,`, `;` and `=`; empty list elements are skipped. A quoted parameter value is unescaped and must
 * then still be a token (§9.1). Throws HandshakeError 400 on malformed input.
 */
export function parseExtensions(value: string): ExtensionOffer[] {
  const out: ExtensionOffer[] = [];
  const len = value.length;
  let i = 0;
  for (;;) {
    i = nextElement(value, i);
    if (i >= len) break;
    const nameEnd = tokenEnd(value, i);
    if (nameEnd === i) fail(EXT, value, i);
    const offer: ExtensionOffer = { name: value.slice(i, nameEnd), params: [] };
    i = skipOws(value, nameEnd);
    while (i < len && value.charCodeAt(i) === 0x3b) {
      i = skipOws(value, i + 1);
      const pEnd = tokenEnd(value, i);
      if (pEnd === i) fail(EXT, value, i);
      const pName = value.slice(i, pEnd);
      i = skipOws(value, pEnd);
      if (i < len && value.charCodeAt(i) === 0x3d) {
        i = skipOws(value, i + 1);
        let pValue: string;
        if (i < len && value.charCodeAt(i) === 0x22) {
          const at = i;
          [pValue, i] = readQuoted(value, i);
          if (!isToken(pValue)) {
            throw new HandshakeError(400, `Invalid ${EXT} header: quoted value at position ${at} is not a token`);
          }
        } else {
          const vEnd = tokenEnd(value, i);
          if (vEnd === i) fail(EXT, value, i);
          pValue = value.slice(i, vEnd);
          i = vEnd;
        }
        offer.params.push([pName, pValue]);
        i = skipOws(value, i);
      } else {
        offer.params.push([pName, true]);
      }
    }
    out.push(offer);
    if (i >= len) break;
    if (value.charCodeAt(i) !== 0x2c) fail(EXT, value, i);
    i++;
  }
  return out;
}

/**
 * Serializes extensions for a `Sec-WebSocket-Extensions` header, e.g.
 * `permessage-deflate; client_max_window_bits=10, x-foo`. Names and values must be tokens (numbers
 * are written in decimal); anything else throws a TypeError, so the output always parses back.
 */
export function formatExtensions(list: Iterable<ExtensionToFormat>): string {
  const parts: string[] = [];
  for (const ext of list) {
    if (!isToken(ext.name)) throw new TypeError(`Invalid extension name: ${JSON.stringify(ext.name)}`);
    let s = ext.name;
    for (const [name, value] of ext.params ?? []) {
      if (!isToken(name)) throw new TypeError(`Invalid extension parameter name: ${JSON.stringify(name)}`);
      if (value === true) {
        s += `; ${name}`;
        continue;
      }
      const text = typeof value === 'number' ? formatNumber(value) : value;
      if (typeof text !== 'string' || !isToken(text)) {
        throw new TypeError(`Invalid value for extension parameter ${name}: ${JSON.stringify(value)}`);
      }
      s += `; ${name}=${text}`;
    }
    parts.push(s);
  }
  return parts.join(', ');
}

function formatNumber(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`Invalid extension parameter value: ${n}`);
  return String(n);
}
