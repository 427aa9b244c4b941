// Opens /docs in headless Chromium and uses it as a person would: the
// operations are listed, the Authorize dialog logs in through the OAuth2
// password flow, and "Try it out" on GET /users/me returns 200.
// Usage: node check.mjs BASE_URL EMAIL PASSWORD
import { chromium } from 'playwright-core';

const [base, email, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const fail = async (page, message) => {
  await page.screenshot({ path: 'docs-failure.png', fullPage: true }).catch(() => {});
  console.error('FAIL:', message, '(screenshot: .ci/browser/docs-failure.png)');
  await browser.close();
  process.exit(1);
};
const page = await browser.newPage();
const external = [];
page.on('request', (req) => { if (!req.url().startsWith(base)) external.push(req.url()); });
await page.goto(base + '/docs');

await page.waitForSelector('.opblock', { timeout: 30000 });
const operations = await page.locator('.opblock').count();
console.log(`/docs lists ${operations} operations`);
if (operations < 20) await fail(page, `expected every operation, saw ${operations}`);

// Authorize with the OAuth2 password flow, as FastAPI's docs do.
await page.click('button.authorize');
const dialog = page.locator('.modal-ux');
const oauth2 = dialog.locator('.auth-container').filter({ hasText: 'OAuth2, password' });
await oauth2.locator('#oauth_username').fill(email);
await oauth2.locator('#oauth_password').fill(password);
await oauth2.locator('button.authorize').click();
await oauth2.locator('button', { hasText: 'Logout' }).waitFor({ timeout: 15000 })
  .catch(() => fail(page, 'the Authorize dialog did not log in'));
await dialog.locator('button.close-modal').first().click();
console.log('logged in through the Authorize dialog');

// Try it out on GET /users/me.
const op = page.locator('#operations-me-getMe');
await op.locator('.opblock-summary').click();
await op.locator('button.try-out__btn').click();
await op.locator('button.execute').click();
const status = op.locator('.live-responses-table .response .response-col_status').first();
await status.waitFor({ timeout: 15000 }).catch(() => fail(page, 'no response to Try it out'));
const code = (await status.innerText()).trim();
const body = await op.locator('.live-responses-table .response-col_description pre').first().innerText();
console.log(`GET /users/me answered ${code}: ${body.replace(/\s+/g, ' ').slice(0, 120)}`);
if (code !== '200' || !body.includes(email)) await fail(page, `expected 200 with the user, got ${code}`);
if (external.length) await fail(page, `the page fetched from outside the server: ${external.join(', ')}`);
await browser.close();
console.log('browser check passed');
