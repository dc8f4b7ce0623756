import { hasUnsafeHeaderChars, isToken, parseExtensions } from './tokens.js';

/*
 * Writing header lines that came from the application. Everything is checked before a single
 * byte is produced, so a CR/LF (or a character that latin1 would fold into one) can never turn a
 * header value into an injected header or a premature end of the head.
 */

/** Extra headers by name; an array value means the header is repeated. */
export type ExtraHeaders = Readonly<Record<string, string | number | readonly string[]>>;

/** Throws a TypeError unless `name: value` is safe to emit. */
function checkHeader(name: string, value: string): void {
  if (!isToken(name)) throw new TypeError(`Invalid HTTP header name: ${JSON.stringify(name)}`);
  if (hasUnsafeHeaderChars(value)) throw new TypeError(`Invalid character in value of HTTP header ${name}`);
}

/**
 * Appends `Name: value` lines for `extra` to `lines`. `reserved` holds the lower-cased names the
 * caller emits itself; supplying one of them throws rather than sending it twice.
 */
export function appendExtraHeaders(lines: string[], extra: ExtraHeaders | undefined, reserved: ReadonlySet<string>): void {
  if (extra === undefined) return;
  const add = (name: string, value: string): void => {
    checkHeader(name, value);
    if (reserved.has(name.toLowerCase())) throw new TypeError(`Header ${name} is set by the handshake and cannot be overridden`);
    lines.push(`${name}: ${value}`);
  };
  for (const [name, value] of Object.entries(extra)) {
    if (Array.isArray(value)) for (const v of value as readonly string[]) add(name, String(v));
    else add(name, String(value));
  }
}

/** Joins a start line and header lines into a complete head, ready to write. */
export function serializeHead(lines: string[]): Buffer {
  // latin1 is safe here only because every value went through hasUnsafeHeaderChars (no code > 0xFF).
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

/**
 * The `Sec-WebSocket-Extensions` line for an application-supplied value, checked first: no
 * control characters (header injection) and a value our own parser accepts, else TypeError.
 */
export function extensionsLine(value: string): string {
  if (hasUnsafeHeaderChars(value)) throw new TypeError('Invalid character in Sec-WebSocket-Extensions');
  try {
    parseExtensions(value);
  } catch (err) {
    throw new TypeError(`Invalid Sec-WebSocket-Extensions value: ${(err as Error).message}`);
  }
  return `Sec-WebSocket-Extensions: ${value}`;
}
