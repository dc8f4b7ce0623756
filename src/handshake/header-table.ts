/**
 * Header values by lower-cased name, every repeat joined by ', ' (Node drops repeats of a few
 * headers, Host among them; the checks must see a repeated Host or key to refuse it).
 */
export type HeaderTable = Readonly<Record<string, string | undefined>>;

/**
 * The header table of a request: built from `rawHeaders` when it has them (Node's
 * IncomingMessage, or HeadParser's result), else from `headers` (a hand-made request object,
 * whose array values are joined).
 */
export function headerTable(req: { rawHeaders?: unknown; headers?: unknown }): HeaderTable {
  const table = Object.create(null) as Record<string, string>;
  const raw = req.rawHeaders;
  if (Array.isArray(raw) && raw.length > 0) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = String(raw[i]).toLowerCase();
      const value = String(raw[i + 1]);
      const prev = table[name];
      table[name] = prev === undefined ? value : `${prev}, ${value}`;
    }
    return table;
  }
  const headers = req.headers;
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      if (value === undefined) continue;
      table[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    }
  }
  return table;
}
