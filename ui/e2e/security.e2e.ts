// The served UI under its security policy in real Chromium: the printed URL logs the browser in
// (a cookie, then a clean address), the whole app runs under the Content-Security-Policy without a
// single violation, another site cannot frame it, and a browser without the token gets a page
// that says how to get in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserPage,
  type Server,
  checkPrerequisites,
  closeBrowser,
  openBrowser,
  startServer,
  waitFor,
} from './harness';

let server: Server | undefined;
let bp: BrowserPage | undefined;

describe('security policy in the browser', () => {
  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    bp = await openBrowser();
    // Every violation of the policy, as the page sees it.
    await bp.page.addInitScript(() => {
      (window as unknown as { cspViolations: string[] }).cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { cspViolations: string[] }).cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
  });

  afterAll(async () => {
    await closeBrowser(bp);
    await server?.stop();
  });

  it('logs in through the printed URL and leaves the token out of the address bar', async () => {
    const page = bp!.page;
    const res = await page.goto(new URL('#/cluster', server!.baseUrl).toString());
    expect(page.url()).toBe(`${server!.origin}#/cluster`);
    const headers = res!.headers();
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.value === server!.token)?.httpOnly).toBe(true);
  });

  it('runs every view under the policy, live data included, without a violation', async () => {
    const page = bp!.page;
    for (const view of [
      'overview',
      'processes',
      'accelerators',
      'profiling',
      'reservations',
      'queue',
      'cluster',
      'executions',
    ]) {
      await page.goto(new URL(`#/${view}`, server!.origin).toString());
      await page.waitForLoadState('networkidle');
    }
    await page.goto(server!.origin);
    // The live WebSocket (cookie-authenticated, under connect-src 'self') feeds the overview.
    await waitFor('live CPU figure', async () => (await page.locator('body').innerText()).match(/\d+(\.\d+)?\s*%/));
    const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    expect(violations).toEqual([]);
    expect(bp!.pageErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });

  it('cannot be framed by another site', async () => {
    const page = await bp!.browser.newPage();
    await page.setContent(`<iframe id="f" src="${server!.origin}"></iframe>`);
    const frame = (await (await page.waitForSelector('#f')).contentFrame())!;
    await page.waitForTimeout(1500);
    // Framed, it would show the server's page (the sign-in page: the cookie is SameSite=Strict);
    // refused, the frame holds the browser's own error page.
    const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    expect(text).not.toContain('Steward');
    expect(frame.url()).not.toBe(server!.origin);
    await page.close();
  });

  it('tells a browser without the token how to get in', async () => {
    const context = await bp!.browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(server!.origin);
    expect(res!.status()).toBe(401);
    expect(await page.locator('body').innerText()).toContain('stewardctl url');
    const api = await context.request.get(new URL('api/status', server!.origin).toString());
    expect(api.status()).toBe(401);
    await context.close();
  });
});
