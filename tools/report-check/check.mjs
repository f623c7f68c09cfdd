// Opens a report page in headless Chromium at each width given and checks what a reader would hit:
// anything wider than the window (the page scrolls sideways, or an element or a scrolling box overflows),
// and script or console errors. Writes a full-page screenshot per width.
//
// usage: node check.mjs PAGE.html OUT_DIR [WIDTH ...]   (widths default to 1280 1024)
// Chromium: $CHROMIUM, or /usr/bin/chromium. Prints one JSON line per width; exits 0 when every width passes,
// 1 when a check failed, 2 when the check could not run.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [page, outDir, ...widthArgs] = process.argv.slice(2);
if (!page || !outDir) {
  console.error('usage: node check.mjs PAGE.html OUT_DIR [WIDTH ...]');
  process.exit(2);
}

const widths = widthArgs.length > 0 ? widthArgs.map(Number) : [1280, 1024];
if (widths.some((w) => !Number.isInteger(w) || w < 320 || w > 4000)) {
  console.error(`widths must be whole numbers of pixels from 320 to 4000, not: ${widthArgs.join(' ')}`);
  process.exit(2);
}

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(page) || !existsSync(executablePath)) {
  console.error(`missing: ${!existsSync(page) ? page : executablePath} (set CHROMIUM to the browser's path)`);
  process.exit(2);
}

mkdirSync(outDir, { recursive: true });

// Runs in the page: what sticks out past the window, and which boxes scroll sideways.
function measure() {
  const root = document.scrollingElement;
  const viewport = window.innerWidth;
  const describe = (e) => {
    const table = e.closest('[data-table]') ?? e.querySelector(':scope > [data-table]');
    return `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''}${table ? ` in table ${table.getAttribute('data-table')}` : ''}`;
  };
  const wider = [];
  const scrollers = [];
  for (const e of document.querySelectorAll('body *')) {
    const rect = e.getBoundingClientRect();
    if (rect.width > 0 && (rect.right > viewport + 1 || rect.left < -1)) {
      wider.push(`${describe(e)} spans ${Math.round(rect.left)}..${Math.round(rect.right)} px`);
    }
    const overflowX = getComputedStyle(e).overflowX;
    if ((overflowX === 'auto' || overflowX === 'scroll') && e.scrollWidth > e.clientWidth + 1) {
      scrollers.push(`${describe(e)} scrolls sideways: ${e.scrollWidth} px of content in ${e.clientWidth} px`);
    }
  }
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wider: wider.slice(0, 10), widerCount: wider.length, scrollers };
}

let failed = false;
let browser;
try {
  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  for (const width of widths) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const tab = await context.newPage();
    const errors = [];
    tab.on('pageerror', (error) => errors.push(`script error: ${error.message}`));
    tab.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
    });
    await tab.goto(pathToFileURL(resolve(page)).href, { waitUntil: 'load', timeout: 30000 });
    const result = await tab.evaluate(measure);
    const screenshot = join(outDir, `${basename(page, '.html')}-${width}.png`);
    await tab.screenshot({ path: screenshot, fullPage: true });
    const problems = [...errors, ...result.wider, ...result.scrollers];
    if (result.scrollWidth > result.clientWidth) {
      problems.unshift(`the page scrolls sideways: ${result.scrollWidth} px wide in a ${result.clientWidth} px window`);
    }
    if (result.widerCount > result.wider.length) {
      problems.push(`and ${result.widerCount - result.wider.length} more elements wider than the window`);
    }
    failed ||= problems.length > 0;
    console.log(JSON.stringify({ width, ok: problems.length === 0, screenshot, problems }));
    await context.close();
  }
} catch (error) {
  console.error(`could not check ${page}: ${error.message}`);
  process.exit(2);
} finally {
  await browser?.close();
}

process.exit(failed ? 1 : 0);
