/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The dashboard in a real browser, as a person uses it: `make up`, open the printed address in
// Debian's Chromium (headless, driven by playwright-core; no browser download), drop the sample
// photo, choose the sample CSV, and watch both reach PROCESSED: the thumbnails displayed at their
// real widths, the import counts, the rejected-rows link answering with the two bad rows.
// A screenshot of the page goes to .reports/dashboard.png.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DASHBOARD_URL as DASHBOARD, LAMBDA_API_URL } from '../toolkit/ports';
import { output, readStack } from '../toolkit/stack';
import { describeWithDocker } from './support/docker';
import { make, ROOT, stackWasUp } from './support/make';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Flags for a headless browser in a container or CI: no sandbox (no user namespaces there), no GPU, nothing phoning home. */
const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describeWithDocker(
  'the dashboard in a browser',
  () => {
    let browser: Browser;
    let page: Page;
    let leaveRunning = false;
    const problems: string[] = [];

    beforeAll(async () => {
      leaveRunning = stackWasUp();
      make('up');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
      page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
      // Which address answered an error: the console line above does not say.
      page.on('response', (response) => response.status() >= 400 && problems.push(`${response.status()} ${response.url()}`));
    }, 900_000);
    afterAll(async () => {
      await browser?.close();
      if (!leaveRunning) make('down');
    }, 120_000);

    /** Drops one file on the drop zone as a person drags it there: a DataTransfer holding it. */
    async function drop(name: string, type: string, bytes: Buffer): Promise<void> {
      const transfer = await page.evaluateHandle(
        ([b64, fileName, fileType]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], fileName, { type: fileType }));
          return dt;
        },
        [bytes.toString('base64'), name, type] as const,
      );
      await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
    }

    it('opens, takes a dropped photo and a chosen CSV, and shows their thumbnails and import results', async () => {
      await page.goto(DASHBOARD);
      await page.locator('#api-status', { hasText: 'connected' }).waitFor({ timeout: 30_000 });
      expect(await page.locator('#dataset option').allTextContents()).toEqual(['people', 'debian-releases']);

      // The photo by drag and drop: a DataTransfer holding the file, dropped on the zone.
      await drop('photo.jpg', 'image/jpeg', readFileSync(join(ROOT, 'samples/photo.jpg')));
      // The CSV through the file chooser, imported as the "people" data set.
      await page.selectOption('#dataset', 'people');
      await page.setInputFiles('#files', join(ROOT, 'samples/people.csv'));

      const photoCard = page.locator('li.card', { hasText: 'photo.jpg' });
      const csvCard = page.locator('li.card', { hasText: 'people.csv' });
      await photoCard.and(page.locator('[data-status="PROCESSED"]')).waitFor({ timeout: 180_000 });
      await csvCard.and(page.locator('[data-status="PROCESSED"]')).waitFor({ timeout: 180_000 });
      expect(await photoCard.getAttribute('data-key')).toMatch(/^images\/\d{4}-\d{2}-\d{2}\/[0-9a-f]{8}-photo\.jpg$/);

      // Every thumbnail loaded, at the width it claims: the photo stands upright (EXIF 6), 4:3.
      const images = photoCard.locator('img.thumbnail');
      await page.waitForFunction((n) => [...document.querySelectorAll<HTMLImageElement>('li.card img.thumbnail')].filter((i) => i.complete && i.naturalWidth > 0).length >= n, 3, { timeout: 30_000 });
      const sizes = await images.evaluateAll((list) => list.map((i) => [Number((i as HTMLImageElement).dataset.width), (i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]));
      expect(sizes).toEqual([
        [128, 128, 96],
        [512, 512, 384],
        [1024, 1024, 768],
      ]);

      // The import: ten rows written, two rejected, and the rejected rows one click away.
      const people = output(await readStack(), 'PeopleTableName');
      await expect(csvCard.locator('.import').textContent()).resolves.toContain(`12 rows read, 10 written to ${people}, 0 unchanged, 2 rejected`);
      const href = await csvCard.locator('a.rejected-rows').getAttribute('href');
      const report = await page.request.get(href!);
      expect(report.status()).toBe(200);
      const lines = (await report.text()).trim().split('\n');
      expect(lines[0]).toBe('id,name,email,age,active,line,reason');
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['', 'u-011']);

      // The recent list shows both, PROCESSED, refreshed without a reload.
      const key = (await photoCard.getAttribute('data-key'))!;
      await page.locator('#recent tbody tr', { hasText: key }).and(page.locator('[data-status="PROCESSED"]')).waitFor({ timeout: 15_000 });

      mkdirSync(join(ROOT, '.reports'), { recursive: true });
      await page.screenshot({ path: join(ROOT, '.reports/dashboard.png'), fullPage: true });
      expect(problems).toEqual([]);
    }, 600_000);

    it('shows a file the pipeline refuses as FAILED with its reason, and lists it under alerts', async () => {
      await drop('not-a-picture.png', 'image/png', Buffer.from('this is not a picture'));
      const card = page.locator('li.card', { hasText: 'not-a-picture.png' });
      await card.and(page.locator('[data-status="FAILED"]')).waitFor({ timeout: 180_000 });
      expect(await card.locator('.state').textContent()).toMatch(/thumbnail failed in \d+ ms: /);
      const key = (await card.getAttribute('data-key'))!;
      await page.locator('#alerts li', { hasText: key }).waitFor({ timeout: 15_000 });
    }, 300_000);

    it('refuses what the api refuses before anything reaches S3, and says why', async () => {
      await drop('invoice.pdf', 'application/pdf', Buffer.from('%PDF-1.7'));
      const card = page.locator('li.card', { hasText: 'invoice.pdf' });
      await card.and(page.locator('[data-status="ERROR"]')).waitFor({ timeout: 30_000 });
      expect(await card.locator('.state').textContent()).toContain('application/pdf is not an image the thumbnail pipeline reads');
    }, 60_000);

    it("the local Lambda service's page shows each function's environments, cold starts and throttles, without a console error", async () => {
      const status = await browser.newPage();
      const errors: string[] = [];
      status.on('pageerror', (error) => errors.push(error.message));
      status.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await status.goto(`${LAMBDA_API_URL}/`);
      await status.waitForFunction(() => document.querySelectorAll('#functions tr').length >= 6, undefined, { timeout: 15_000 });
      const rows = await status.$$eval('#functions tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')));
      const thumbnail = rows.find((r) => r[0]!.includes('Thumbnail'))!;
      // function, starting, idle, busy, waiting, cold starts, throttles, reserved: the drops above started one at least.
      expect(thumbnail.slice(1).every((cell) => /^(\d+|-)$/.test(cell))).toBe(true);
      expect(Number(thumbnail[5])).toBeGreaterThanOrEqual(1);
      expect(await status.textContent('#account')).toMatch(/account concurrency \d+ \(AWS default 1000\)/);
      expect(errors).toEqual([]);
      await status.close();
    }, 60_000);
  },
  { commands: [[CHROMIUM, 'apt-get install chromium (Debian), or set CHROMIUM_PATH']] },
);
