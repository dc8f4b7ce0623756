/**
 * The few WebIDL conversions and interface-shaping rules the web face needs, written to
 * the letter of WebIDL (https://webidl.spec.whatwg.org/#es-type-mapping) so that what a
 * browser accepts, rejects or coerces, this accepts, rejects or coerces the same way.
 */

/** `DOMString`: ToString — which throws for Symbols, where `String()` would not. */
export function toDOMString(value: unknown): string {
  if (typeof value === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
  return String(value);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const toWellFormed = (String.prototype as { toWellFormed?: () => string }).toWellFormed;

/** `USVString`: a DOMString whose lone surrogates become U+FFFD. */
export function toUSVString(value: unknown): string {
  const s = toDOMString(value);
  return toWellFormed !== undefined ? toWellFormed.call(s) : s.replace(LONE_SURROGATE, '\uFFFD');
}

/** ToNumber: throws for Symbols and BigInts (unary plus does exactly that). */
function toNumber(value: unknown): number {
  return +(value as number);
}

/** `unsigned short` (plain): modulo 2^16 after truncation; NaN and infinities become 0. */
export function toUnsignedShort(value: unknown): number {
  const x = toNumber(value);
  if (!Number.isFinite(x) || x === 0) return 0;
  const m = Math.trunc(x) % 65536;
  return m < 0 ? m + 65536 : m;
}

/** `[Clamp] unsigned short`: clamped to 0–65535, rounded half to even; NaN becomes 0. */
export function toClampedUnsignedShort(value: unknown): number {
  const x = toNumber(value);
  if (Number.isNaN(x)) return 0;
  const clamped = Math.min(Math.max(x, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `[EnforceRange] unsigned short`: a TypeError for NaN, infinities and values outside 0–65535. */
export function toEnforcedUnsignedShort(value: unknown): number {
  const x = toNumber(value);
  if (!Number.isFinite(x)) throw new TypeError(`${String(x)} is not a finite number`);
  const t = Math.trunc(x);
  if (t < 0 || t > 65535) throw new TypeError(`${t} is outside the range of an unsigned short (0-65535)`);
  return t === 0 ? 0 : t;
}

/** A dictionary argument: undefined and null are the empty dictionary; other non-objects are a TypeError. */
export function toDictionary(value: unknown, what: string): Record<PropertyKey, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' && typeof value !== 'function') {
    throw new TypeError(`${what} must be an object`);
  }
  return value as Record<PropertyKey, unknown>;
}

/**
 * GetMethod(V, @@iterator), which picks a union's sequence member: undefined when `value` is
 * not an object or has no iterator; a TypeError when its iterator is not callable.
 */
export function iteratorMethod(value: unknown): ((this: unknown) => Iterator<unknown>) | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  const method = (value as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (method === undefined || method === null) return undefined;
  if (typeof method !== 'function') throw new TypeError('@@iterator is not a function');
  return method as (this: unknown) => Iterator<unknown>;
}

/** `sequence<T>`: any iterable object, each element converted with `convert`. */
export function toSequence<T>(value: unknown, convert: (v: unknown) => T, what: string): T[] {
  const method = iteratorMethod(value);
  if (method === undefined) throw new TypeError(`${what} is not iterable`);
  const iterator = method.call(value);
  const out: T[] = [];
  for (let step = iterator.next(); step.done !== true; step = iterator.next()) out.push(convert(step.value));
  return out;
}

/**
 * A `BufferSource` (no [AllowShared], no [AllowResizable]) as a copy of its bytes, or null if
 * `value` is neither an ArrayBuffer nor a view (the caller then tries its union's next member).
 * A view on shared or resizable memory, or a resizable ArrayBuffer, is a TypeError.
 */
export function copyBufferSource(value: unknown): Buffer | null {
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer as ArrayBuffer & { resizable?: boolean; growable?: boolean };
    if (!(buffer instanceof ArrayBuffer)) throw new TypeError('A view on a SharedArrayBuffer is not allowed here');
    if (buffer.resizable === true) throw new TypeError('A view on a resizable ArrayBuffer is not allowed here');
    return Buffer.from(new Uint8Array(buffer, value.byteOffset, value.byteLength));
  }
  if (value instanceof ArrayBuffer) {
    if ((value as { resizable?: boolean }).resizable === true) throw new TypeError('A resizable ArrayBuffer is not allowed here');
    return Buffer.from(new Uint8Array(value));
  }
  return null;
}

/** WebIDL's "not enough arguments". */
export function requireArguments(given: number, required: number, what: string): void {
  if (given < required) {
    throw new TypeError(`${what}: ${required} argument${required === 1 ? '' : 's'} required, but only ${given} present`);
  }
}

/**
 * Gives a class the property descriptors WebIDL gives an interface: attributes (accessors) and
 * operations are enumerable, constants are read-only and enumerable on both the interface
 * object and its prototype, and `Symbol.toStringTag` names the interface. Class syntax makes
 * all of these non-enumerable, which is visible to `for…in` and to the web-platform-tests.
 */
export function exposeInterface(
  cls: { prototype: object },
  spec: { name: string; members: readonly string[]; constants?: Readonly<Record<string, number>> },
): void {
  const proto = cls.prototype;
  for (const member of spec.members) {
    const desc = Object.getOwnPropertyDescriptor(proto, member);
    if (desc === undefined) throw new Error(`${spec.name}.prototype.${member} is not defined`);
    Object.defineProperty(proto, member, { ...desc, enumerable: true });
  }
  for (const [name, value] of Object.entries(spec.constants ?? {})) {
    const desc = { value, writable: false, enumerable: true, configurable: false };
    Object.defineProperty(cls, name, desc);
    Object.defineProperty(proto, name, desc);
  }
  Object.defineProperty(proto, Symbol.toStringTag, { value: spec.name, writable: false, enumerable: false, configurable: true });
}
