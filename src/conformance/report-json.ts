import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderHtml } from './report-html.js';
import type { SuiteResult } from './types.js';

/** report.json is the stable, documented schema (see README.md); index.html is for people. */
export function toJson(result: SuiteResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

export async function writeReports(result: SuiteResult, dir: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'index.html');
  await writeFile(json, toJson(result));
  await writeFile(html, renderHtml(result));
  return { json, html };
}
