import test from 'ava';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { createModel } from './fixtures/tiny-model.js';
import { createModel as createDeepFm } from '../../src/model/models/deepfm.js';
import { StandaloneExporter } from '../../src/export/exporters.js';
import { trainModel } from './fixtures/train.js';
import { DistributedExporter } from '../../src/export/exporters.js';
import { tmpdir } from 'node:os';
import { liveParams } from '../../src/export/params-source.js';
import { renderExportHtml } from '../../src/export/visualizer.js';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { tempDir } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = await access(CHROMIUM).then(
  () => true,
  () => false,
);

(hasChromium ? test : test.skip)('the visualizer page renders in headless Chromium with every signature, table and layer', async (t) => {
  const tr = trainModel(createModel());
  const base = await tempDir();
  const res = await new DistributedExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), numPs: 2, clock: () => 1700000000 }).exportSavedModel();
  const html = await renderExportHtml(res.entry!);
  t.notRegex(html, /<script|src="http|href="http/, 'self-contained: no scripts, no external resources');
  const file = join(base, 'model.html');
  await writeFileAtomic(file, html);
  const layers = JSON.parse(await readFile(join(res.entry!, 'dense', 'model.json'), 'utf8')).modelTopology.config.layers.length;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    t.is(await page.title(), 'tiny entry 1700000000');
    t.deepEqual(await page.$$eval('tr.signature', (rs) => rs.map((r) => r.getAttribute('data-signature'))), ['serving_default']);
    t.is(await page.locator('tr.feature').count(), 3);
    t.is(await page.locator('tr.table-row').count(), 4, 'two tables on each of two parameter servers');
    t.is(await page.locator('g.layer').count(), layers);
    t.true((await page.locator('path.edge').count()) >= layers - 4);
    const box = await page.locator('#dense-graph svg').boundingBox();
    t.true(!!box && box.width > 300 && box.height > 40, JSON.stringify(box));
    t.deepEqual(errors, []);
    t.deepEqual(requests, [pathToFileURL(file).href]);
  } finally {
    await browser.close();
  }
});

(hasChromium ? test : test.skip)('DeepFM at 1400 px: no sideways scrolling, labels inside their boxes, model names, natural order', async (t) => {
  const tr = trainModel(createDeepFm({ sparseSlots: 26 }));
  const base = await tempDir();
  const dir = await new StandaloneExporter({ spec: tr.spec, exportDirBase: base, params: liveParams(tr.dense, tr.tables), clock: () => 1700000000 }).exportSavedModel();
  const file = join(base, 'deepfm.html');
  await writeFileAtomic(file, await renderExportHtml(dir));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(pathToFileURL(file).href);
    await page.screenshot({ path: join(tmpdir(), 'monolith-ts-visualizer-deepfm.png'), fullPage: true });
    await page.locator('#dense-graph').screenshot({ path: join(tmpdir(), 'monolith-ts-visualizer-deepfm-graph.png') });
    t.true(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal scroll');
    const spills = await page.$$eval('g.layer', (gs) =>
      gs.flatMap((g) => {
        const rect = g.querySelector('rect')!.getBBox();
        return [...g.querySelectorAll('text')].filter((x) => x.getBBox().x + x.getBBox().width > rect.width + 0.5).map((x) => x.textContent);
      }),
    );
    t.deepEqual(spills, [], 'every label fits its box');
    const labels = await page.$$eval('g.layer text.detail', (xs) => xs.map((x) => x.textContent ?? ''));
    t.false(labels.some((l) => /[A-Z][a-z]+\d{2,}/.test(l)), labels.join(' | '));
    const features = await page.$$eval('tr.feature td:first-child', (cs) => cs.map((c) => c.textContent ?? ''));
    const slots = features.filter((n) => /\d+$/.test(n));
    t.true(slots.length >= 10, features.join(','));
    t.deepEqual(slots, [...slots].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
    t.is(await page.locator('path.edge').count(), await page.$$eval('path.edge', (ps) => new Set(ps.map((p) => p.getAttribute('d'))).size), 'no two edges drawn on the same path');
  } finally {
    await browser.close();
  }
});
