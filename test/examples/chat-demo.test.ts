import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM } from '../peers/chromium.js';
import { runExample, type Running } from './spawn-example.js';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the chat demo behind npm start, in Chromium', () => {
  let demo: Running;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    demo = runExample('examples/chat/server.js', ['0']);
    const m = await demo.waitFor(/http:\/\/localhost:(\d+)/);
    url = `http://127.0.0.1:${m[1]}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('a message typed in one page appears in the other', async () => {
    const alice = await browser.newPage();
    const bob = await browser.newPage();
    await alice.goto(url);
    await bob.goto(url);
    await alice.waitForSelector('#state.open');
    await bob.waitForSelector('#state.open');
    await alice.fill('#text', 'hello from alice ✓');
    await alice.click('button');
    await bob.waitForFunction(() => document.getElementById('log')!.textContent!.includes('hello from alice ✓'));
    expect(await bob.textContent('#log')).toMatch(/guest-\d+: hello from alice ✓/);
    expect(await alice.textContent('#state')).toBe('open');
  });
});
