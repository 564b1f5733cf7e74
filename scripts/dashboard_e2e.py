#!/usr/bin/env python3
"""End-to-end test of aurum's web dashboard, driven by Selenium and headless Chromium.

It runs against an aurum that is already serving its operator API (it starts nothing):

    scripts/dashboard_e2e.py --base-url http://127.0.0.1:PORT --token TOKEN --screenshot PATH

Steps: load /; wait until the equity chart is drawn; compare the chart's point count and the
trade table's rows with what the API answers; check that the kill switch is off; engage it through
the page's token dialog, first with a wrong token (expect the 401 message) then with the right one;
wait until both the API and the page report it engaged; save a screenshot.

Prints one line per assertion and a closing "dashboard-e2e: N passed, N failed" line; exits 1 on
the first failure (later steps depend on the earlier ones), 2 on bad arguments.
"""
import argparse
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - reported to the operator
    sys.exit("dashboard-e2e: selenium is not installed (run scripts/dashboard-e2e.sh, which sets up a venv)")

WRONG_TOKEN_MESSAGE = "wrong or missing token"
MAX_TRADES = 50


class Failure(Exception):
    """An assertion of the test failed."""


class Runner:
    def __init__(self, args):
        self.args = args
        self.base = args.base_url.rstrip("/")
        self.passed = 0
        self.driver = None
        # Never route loopback requests through a proxy from the environment.
        self.http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # ------------------------------------------------------------ reporting

    def ok(self, what):
        self.passed += 1
        print(f"PASS: {what}", flush=True)

    def check(self, cond, what, detail=""):
        if not cond:
            raise Failure(f"{what}{f' ({detail})' if detail else ''}")
        self.ok(what)

    # ------------------------------------------------------------ API

    def api(self, path, method="GET", body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with self.http.open(req, timeout=10) as res:
                return json.load(res)
        except urllib.error.HTTPError as e:
            raise Failure(f"{method} {path} answered HTTP {e.code}: {e.read()[:300]!r}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise Failure(f"{method} {path} failed: {e}") from None

    def equity_count(self):
        points = self.api("/api/equity").get("points")
        if not isinstance(points, list):
            raise Failure("GET /api/equity has no 'points' array")
        return len(points)

    def trades_count(self):
        items = self.api(f"/api/trades?limit={MAX_TRADES}&offset=0").get("items")
        if not isinstance(items, list):
            raise Failure("GET /api/trades has no 'items' array")
        return min(MAX_TRADES, len(items))

    # ------------------------------------------------------------ page

    def start_browser(self):
        opts = Options()
        binary = self.args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
        if binary:
            opts.binary_location = binary
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-first-run", "--no-default-browser-check"):
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver_path = self.args.chromedriver or shutil.which("chromedriver") or "/usr/bin/chromedriver"
        self.driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
        self.driver.set_page_load_timeout(30)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.find(css).text.strip()

    def dom_points(self):
        raw = self.find("#equity-chart").get_attribute("data-points")
        try:
            return int(raw)
        except (TypeError, ValueError):
            return -1

    def dom_trade_rows(self):
        return len(self.driver.find_elements(By.CSS_SELECTOR, "#trades-table tbody tr"))

    def wait(self, timeout, cond, what):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(lambda _d: cond())
        except TimeoutException:
            raise Failure(f"timed out after {timeout} s waiting for {what}") from None

    def consistent(self, what, api_read, dom_read, attempts):
        """api == dom, with the API read before and after the page: the bot keeps trading."""
        last = None
        for i in range(attempts):
            before = api_read()
            dom = dom_read()
            after = api_read()
            last = (before, dom, after)
            if before == after == dom:
                self.ok(f"{what}: page shows {dom}, API answers {after}")
                return
            time.sleep(1.0 if before == after else 0.3)
        raise Failure(f"{what}: page and API disagree after {attempts} tries "
                      f"(last: API before {last[0]}, page {last[1]}, API after {last[2]})")

    # ------------------------------------------------------------ the test

    def run(self):
        a = self.args
        self.start_browser()
        d = self.driver
        d.get(self.base + "/")
        self.check(self.find("#bot-id") is not None and "aurum" in d.title.lower(),
                   "dashboard page loads", f"title {d.title!r}")

        self.wait(20, lambda: self.dom_points() > 0, "#equity-chart[data-points] > 0")
        self.ok(f"equity chart drawn with {self.dom_points()} points")
        self.check(self.find("#drawdown-chart").get_attribute("data-points") is not None,
                   "drawdown chart carries data-points")

        self.consistent("equity chart data-points == len(/api/equity points)",
                        self.equity_count, self.dom_points, a.attempts)
        self.consistent("trades table rows == min(50, len(/api/trades items))",
                        self.trades_count, self.dom_trade_rows, a.attempts)

        ks = self.api("/api/status").get("kill_switch") or {}
        self.check(ks.get("engaged") is False, "API: kill switch is off before the test",
                   f"kill_switch = {json.dumps(ks)}")
        self.wait(5, lambda: self.text("#kill-switch-state") == "off", "#kill-switch-state to read 'off'")
        self.ok("#kill-switch-state reads 'off'")
        self.check(self.text("#kill-switch-button") == "Engage kill switch",
                   "#kill-switch-button reads 'Engage kill switch'", repr(self.text("#kill-switch-button")))

        # Wrong token first: the dialog must stay open and say so.
        self.find("#kill-switch-button").click()
        self.wait(5, lambda: self.find("#token-input").is_displayed(), "the token dialog to open")
        self.check(self.find("#reason-input").is_displayed() and self.find("#close-positions-input").is_displayed(),
                   "token dialog opens with reason and close-positions fields")
        wrong = "wrong-" + a.token + "-e2e"
        tok = self.find("#token-input")
        tok.clear()
        tok.send_keys(wrong)
        self.find("#reason-input").send_keys("e2e")
        self.find("#token-submit").click()
        self.wait(5, lambda: WRONG_TOKEN_MESSAGE in self.text("#token-error"),
                  f"#token-error to show '{WRONG_TOKEN_MESSAGE}'")
        self.ok(f"wrong token rejected: #token-error reads {self.text('#token-error')!r}")
        self.check(self.api("/api/status").get("kill_switch", {}).get("engaged") is False,
                   "API: kill switch still off after the wrong token")

        # Then the right token.
        tok = self.find("#token-input")
        tok.clear()
        tok.send_keys(a.token)
        reason = self.find("#reason-input")
        reason.clear()
        reason.send_keys("e2e")
        self.find("#token-submit").click()

        def dialog_closed():
            err = self.text("#token-error") if self.find("#token-error").is_displayed() else ""
            if err and WRONG_TOKEN_MESSAGE not in err:
                raise Failure(f"engaging the kill switch failed in the dialog: {err!r}")
            return not self.find("#modal").is_displayed()
        self.wait(10, dialog_closed, "the token dialog to close after the right token")
        self.ok("right token accepted: dialog closed")

        deadline = time.monotonic() + 10
        api_engaged, badge = False, ""
        while time.monotonic() < deadline:
            ks = self.api("/api/status").get("kill_switch") or {}
            api_engaged = ks.get("engaged") is True
            badge = self.text("#kill-switch-state")
            if api_engaged and badge == "ENGAGED":
                break
            time.sleep(0.3)
        self.check(api_engaged, "API: kill switch engaged", f"kill_switch = {json.dumps(ks)}")
        self.check(badge == "ENGAGED", "#kill-switch-state reads 'ENGAGED'", f"it reads {badge!r}")
        self.check(ks.get("reason") == "e2e", "API: kill switch reason is 'e2e'", f"reason = {ks.get('reason')!r}")
        self.check(self.text("#kill-switch-button") == "Reset kill switch",
                   "#kill-switch-button reads 'Reset kill switch'", repr(self.text("#kill-switch-button")))
        stored = d.execute_script("return window.sessionStorage.getItem('aurum.apiToken');")
        self.check(stored == a.token, "token kept in sessionStorage after the successful call")

        errors = self.js_errors()
        self.check(not errors, "no JavaScript errors in the browser console", "; ".join(errors)[:500])

        self.save_screenshot()
        self.ok(f"screenshot saved to {a.screenshot}")

        if a.reset_after:
            self.api("/api/kill-switch/reset", method="POST", body={}, token=a.token)
            self.ok("kill switch reset through the API (--reset-after)")

    def js_errors(self):
        try:
            logs = self.driver.get_log("browser")
        except WebDriverException:
            return []
        out = []
        for entry in logs:
            msg = entry.get("message", "")
            # Failed requests (the deliberate 401) are logged by Chromium too; they are not JS errors.
            if entry.get("level") == "SEVERE" and "Failed to load resource" not in msg:
                out.append(msg)
        return out

    def save_screenshot(self):
        path = self.args.screenshot
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        if not self.driver.save_screenshot(path):
            raise Failure(f"could not save the screenshot to {path}")


def main():
    ap = argparse.ArgumentParser(description="End-to-end test of the aurum web dashboard.")
    ap.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8080")
    ap.add_argument("--token", required=True, help="the operator API token")
    ap.add_argument("--screenshot", required=True, help="where to save a PNG of the page at the end")
    ap.add_argument("--chromedriver", default=os.environ.get("CHROMEDRIVER"), help="default: chromedriver on PATH")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM"), help="default: chromium on PATH")
    ap.add_argument("--attempts", type=int, default=8, help="tries for the page-vs-API count comparisons")
    ap.add_argument("--reset-after", action="store_true", help="reset the kill switch through the API at the end")
    args = ap.parse_args()
    if not args.token:
        ap.error("--token must not be empty")

    r = Runner(args)
    failed = 0
    try:
        r.run()
    except Failure as e:
        failed = 1
        print(f"FAIL: {e}", flush=True)
    except WebDriverException as e:
        failed = 1
        print(f"FAIL: browser error: {e.msg or e}", flush=True)
    finally:
        if failed and r.driver is not None:
            try:
                r.save_screenshot()
                print(f"(screenshot of the failure saved to {args.screenshot})", flush=True)
            except Exception:  # noqa: BLE001 - best effort
                pass
        if r.driver is not None:
            r.driver.quit()
    print(f"dashboard-e2e: {r.passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
