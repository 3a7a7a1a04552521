// The dashboard in a real browser (Debian's Chromium, headless, driven by playwright-core).
// Started by the API suite's `browser` test, which serves a seeded dataset on loopback and
// passes what to expect in the environment. Exits non-zero with a message on the first failure;
// saves a screenshot of every page (desktop and 360 px wide) under $SCREENSHOTS.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env('BASE_URL');
const SHOTS = env('SCREENSHOTS');
const RANGE = env('RANGE');
mkdirSync(SHOTS, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(`browser check failed: ${message}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
});
const timer = setTimeout(() => { console.error('browser test timed out'); process.exit(2); }, 120_000);

async function shoot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${SHOTS}/${name}-360.png`, fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `${name} scrolls sideways at 360 px (${overflow} px)`);
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signIn(context, email) {
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.fill('#tenant', env('TENANT'));
  await page.fill('#email', email);
  await page.fill('#password', env('PASSWORD'));
  await Promise.all([page.waitForURL(/\/overview$/), page.click('button[type=submit]')]);
  return page;
}

const kpi = (page, label) => page.locator(`[data-kpi="${label}"] .value`).innerText();

try {
  const admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(admin, env('ADMIN_EMAIL'));
  await shoot(page, 'login-landing');

  // The overview shows tenant A's figures only.
  await page.goto(`${BASE}/overview?${RANGE}`);
  check((await kpi(page, 'Total calls')) === env('EXPECT_CALLS'), 'overview total calls');
  check((await kpi(page, 'QA passed')) === env('EXPECT_QA'), 'overview QA passed');
  check((await page.locator('svg.chart').count()) === 4, 'four charts on the overview');
  check(!(await page.content()).includes(env('OTHER_AGENT')), "no trace of tenant B's agent");
  check(await page.locator('header nav a[href="/settings"]').isVisible(), 'admins see Settings');
  await shoot(page, 'overview');

  // Open an agent, then one of the agent's calls.
  await Promise.all([page.waitForURL(/\/agents\//), page.click(`text=${env('AGENT')}`)]);
  check((await kpi(page, 'Calls')) === env('EXPECT_AGENT_CALLS'), 'agent calls');
  await shoot(page, 'agent');
  await page.goto(`${BASE}/agents?${RANGE}`);
  await shoot(page, 'agents');
  await page.goto(`${BASE}/calls?${RANGE}`);
  check((await page.locator('tbody tr').count()) === Number(env('EXPECT_CALLS')), 'calls list rows');
  await shoot(page, 'calls');
  await page.goto(`${BASE}/agents/${encodeURIComponent(env('AGENT'))}?${RANGE}`);
  await Promise.all([page.waitForURL(/\/calls\//), page.click(`a[href="/calls/${env('CALL')}"]`)]);

  // The transcript and QA are visible; clicking an utterance seeks the audio.
  check(await page.locator('ol.transcript li#u1').isVisible(), 'transcript visible');
  check((await page.locator('ol.transcript li#u1').innerText()).includes(env('EXPECT_UTTERANCE')), 'utterance text');
  check(await page.locator('table#qa').isVisible(), 'QA table visible');
  check((await page.locator('table#qa tbody tr').count()) === 2, 'two QA rules');
  await page.waitForFunction(() => document.getElementById('player').readyState >= 1, null, { timeout: 15_000 });
  await page.click('li#u1 a.seek');
  const position = await page.evaluate(() => document.getElementById('player').currentTime);
  check(Math.abs(position - 4.5) < 0.6, `audio seeks to the utterance (at ${position})`);
  await page.click('a.evidence[href="#u2"]');
  check(page.url().endsWith('#u2'), 'QA evidence jumps to its utterance');
  await shoot(page, 'call');

  // The audio endpoint serves byte ranges to the signed-in browser.
  const ranged = await page.evaluate(async (url) => {
    const response = await fetch(url, { headers: { Range: 'bytes=0-99' } });
    return { status: response.status, length: (await response.arrayBuffer()).byteLength,
      range: response.headers.get('content-range') };
  }, `/api/v1/calls/${env('CALL')}/audio`);
  check(ranged.status === 206 && ranged.length === 100 && ranged.range.startsWith('bytes 0-99/'),
    `ranged audio: ${JSON.stringify(ranged)}`);

  // Tenant B's call does not exist for A.
  const other = await page.goto(`${BASE}/calls/${env('OTHER_CALL')}`);
  check(other.status() === 404, `B's call gives ${other.status()}`);
  await page.goto(`${BASE}/settings`);
  await shoot(page, 'settings');

  // A member sees no admin navigation.
  const memberContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const member = await signIn(memberContext, env('MEMBER_EMAIL'));
  check((await member.locator('header nav a[href="/settings"]').count()) === 0, 'members see no Settings');
  const settings = await member.goto(`${BASE}/settings`);
  check(settings.status() === 403, `a member's settings page gives ${settings.status()}`);
  console.log('browser checks passed');
} finally {
  clearTimeout(timer);
  await browser.close();
}
