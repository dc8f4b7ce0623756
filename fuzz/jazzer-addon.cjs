'use strict';
// Preloaded (`node -r`) before Jazzer.js, by scripts/fuzz-jazzer.mjs and the fuzz smoke test.
//
// Why: @jazzer.js/fuzzer 4 ships its native part (libFuzzer linked into a Node addon) inside the
// npm package, built on a newer Linux than Debian 12: it asks for glibc 2.38 (only for the C23
// aliases __isoc23_strtol and __isoc23_strtoul) and libstdc++'s GLIBCXX_3.4.32 (only for
// std::ios_base_library_init, a symbol GCC 13 references to force iostream initialisation and never
// calls). Debian 12 has glibc 2.36 and GLIBCXX_3.4.30, so the addon fails to load. Building it
// from source is no way out: the package carries no sources, and older versions' builds download
// LLVM's compiler-rt at install time.
//
// What: when loading the shipped addon fails for exactly those versions, a copy is written to
// node_modules/.cache/sockwire-jazzer/ with three edits to its dynamic-linking tables, and that
// copy is registered in require's cache under the shipped file's name, so Jazzer.js loads it
// unknowingly. The edits: (1) the two missing versions are marked weak (VER_FLG_WEAK), so their
// absence is no load error; (2) __isoc23_strtol / __isoc23_strtoul are renamed to strtol /
// strtoul (their names' own suffixes: the string table is not touched) and made unversioned —
// they differ only in accepting a 0b prefix, which libFuzzer's flag parsing never sees;
// (3) nothing else: ios_base_library_init has no relocation, so it is never looked up.
// The shipped file itself is left as npm installed it.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const MISSING = new Set(['GLIBC_2.38', 'GLIBCXX_3.4.32']);
const VER_FLG_WEAK = 0x2;
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;

function addonPath() {
  const pkg = path.dirname(require.resolve('@jazzer.js/fuzzer/package.json'));
  return path.join(pkg, 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
}

/** The ELF64 little-endian edits described above; returns the patched bytes. */
function patchElf(original) {
  const b = Buffer.from(original);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error('not an ELF64 little-endian file');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      entsize: Number(b.readBigUInt64LE(o + 0x38)),
    });
  }
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  const versym = sections.find((s) => s.type === SHT_GNU_VERSYM);
  const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED);
  if (!dynsym || !versym || !verneed) throw new Error('no dynamic symbol version tables');
  const strtab = sections[dynsym.link];
  const name = (off) => {
    let end = strtab.offset + off;
    while (b[end] !== 0) end++;
    return b.toString('latin1', strtab.offset + off, end);
  };
  // Verneed entries: vn_version, vn_cnt, vn_file, vn_aux, vn_next; each aux: vna_hash, vna_flags, vna_other, vna_name, vna_next.
  for (let o = verneed.offset; ; ) {
    const count = b.readUInt16LE(o + 2);
    let aux = o + b.readUInt32LE(o + 8);
    for (let k = 0; k < count; k++) {
      if (MISSING.has(name(b.readUInt32LE(aux + 8)))) b.writeUInt16LE(b.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
      aux += b.readUInt32LE(aux + 12);
    }
    const next = b.readUInt32LE(o + 12);
    if (next === 0) break;
    o += next;
  }
  const symbols = dynsym.size / dynsym.entsize;
  for (let i = 0; i < symbols; i++) {
    const o = dynsym.offset + i * dynsym.entsize;
    const symbol = name(b.readUInt32LE(o));
    if (symbol === '__isoc23_strtol' || symbol === '__isoc23_strtoul') {
      b.writeUInt32LE(b.readUInt32LE(o) + '__isoc23_'.length, o);
      b.writeUInt16LE(1, versym.offset + i * 2); // VER_NDX_GLOBAL: the default version
    }
  }
  return b;
}

function load() {
  const shipped = addonPath();
  try {
    require(shipped);
    return;
  } catch (err) {
    const missing = [...MISSING].filter((v) => String(err && err.message).includes(`${v}'`));
    if (missing.length === 0) throw err;
  }
  const dir = path.join(process.cwd(), 'node_modules', '.cache', 'sockwire-jazzer');
  const patched = path.join(dir, path.basename(shipped));
  const bytes = patchElf(fs.readFileSync(shipped));
  if (!fs.existsSync(patched) || !fs.readFileSync(patched).equals(bytes)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${patched}.tmp`, bytes);
    fs.renameSync(`${patched}.tmp`, patched);
  }
  const mod = new Module(shipped, module);
  mod.filename = shipped;
  process.dlopen(mod, patched);
  mod.loaded = true;
  require.cache[shipped] = mod;
}

load();
