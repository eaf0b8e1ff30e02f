#!/usr/bin/env python3
"""Loads an HTML report in headless Chromium and checks it the way a reader's browser sees it.

Speaks the DevTools protocol over --remote-debugging-pipe (file descriptors 3 and 4, messages
ended by a NUL byte), so it needs nothing but the Python standard library.

Fails (exit 1) on:
  - any console error, uncaught exception, or browser log entry of level "error" (a blocked
    or failed resource load, a Content-Security-Policy violation, ...);
  - any request for something other than the file itself (the page must be self-contained);
  - any <svg> that is not visible: zero rendered width or height, display:none,
    visibility:hidden, zero opacity, or nothing drawn inside it;
  - fewer charts than --min-charts.
Exit 2 on bad usage or a browser that does not start or answer.

Usage: check_html_report.py --browser PATH REPORT.html [--screenshot PNG]
                            [--chart-shots DIR] [--min-charts N] [--width PX]
"""

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT_S = 90


class Browser:
    """A headless Chromium and one page of it, driven over the DevTools pipe."""

    def __init__(self, executable, user_data_dir, log_file):
        cmd_read, self._cmd_write = os.pipe()  # we write commands; the browser reads fd 3
        self._res_read, res_write = os.pipe()  # the browser writes fd 4; we read

        def child_fds():
            # Copies first (the pipes themselves may sit on 3 or 4), then into place;
            # os.dup2 makes the targets inheritable.
            a, b = os.dup(cmd_read), os.dup(res_write)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={user_data_dir}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            preexec_fn=child_fds,
            pass_fds=(3, 4),
        )
        os.close(cmd_read)
        os.close(res_write)
        self._buf = b""
        self._next_id = 0
        self.events = []
        self.session = None

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the browser did not answer in time")
            ready, _, _ = select.select([self._res_read], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._res_read, 1 << 20)
            if not chunk:
                raise ConnectionError("the browser closed the DevTools pipe (did it crash?)")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=True, timeout=TIMEOUT_S):
        """Sends a command and returns its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            written = os.write(self._cmd_write, data)
            data = data[written:]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method, timeout=TIMEOUT_S):
        """Waits for an event (returns it), keeping every other event."""
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read_message(deadline)
            if "method" in event:
                self.events.append(event)
                if event["method"] == method:
                    return event

    def drain(self, seconds):
        """Collects the events of the next `seconds`."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                event = self._read_message(deadline)
                if "method" in event:
                    self.events.append(event)
        except TimeoutError:
            pass

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:  # the browser may already be gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# Runs in the page (DevTools evaluations are not subject to the page's CSP). Reports every
# <svg> with its rendered size and whether it shows anything.
PROBE = r"""
(() => {
  const svgs = Array.from(document.querySelectorAll('svg'));
  return {
    title: document.title,
    readyState: document.readyState,
    height: Math.ceil(document.documentElement.scrollHeight),
    charts: svgs.map((el, i) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      let box = {width: 0, height: 0};
      try { box = el.getBBox(); } catch (e) {}
      const shapes = el.querySelectorAll('rect,line,polyline,polygon,circle,path').length;
      const texts = el.querySelectorAll('text').length;
      const titleEl = el.querySelector('title');
      return {
        index: i,
        title: titleEl ? titleEl.textContent : (el.getAttribute('aria-label') || ''),
        x: r.left + window.scrollX, y: r.top + window.scrollY,
        width: r.width, height: r.height,
        display: s.display, visibility: s.visibility, opacity: parseFloat(s.opacity),
        contentWidth: box.width, contentHeight: box.height,
        shapes: shapes, texts: texts,
      };
    }),
  };
})()
"""


def problems_in(events, page_url):
    """Console errors, exceptions, error log entries and outside requests among `events`."""
    found = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            found.append(f"console.{p.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = p.get("exceptionDetails", {})
            desc = details.get("exception", {}).get("description") or details.get("text")
            found.append(f"uncaught exception: {desc}")
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            where = f" ({entry['url']})" if entry.get("url") else ""
            found.append(f"browser log error [{entry.get('source')}]: {entry.get('text')}{where}")
        elif method == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if url != page_url and not url.startswith(("data:", "about:")):
                found.append(f"request outside the file: {url}")
        elif method == "Network.loadingFailed":
            found.append(f"failed load: {p.get('errorText')} ({p.get('type')})")
    return found


def screenshot(browser, path, clip):
    shot = browser.send(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": dict(clip, scale=1)},
    )
    Path(path).write_bytes(base64.b64decode(shot["data"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--browser", required=True)
    ap.add_argument("--screenshot", help="write a full-page PNG here")
    ap.add_argument("--chart-shots", help="write one PNG per chart into this directory")
    ap.add_argument("--min-charts", type=int, default=0)
    ap.add_argument("--width", type=int, default=1400, help="window width, CSS pixels")
    args = ap.parse_args()

    report = Path(args.report).resolve()
    if not report.is_file():
        print(f"error: no such file: {args.report}", file=sys.stderr)
        return 2
    page_url = report.as_uri()

    profile = tempfile.mkdtemp(prefix="tapbench-chromium-")
    log_path = Path(profile + ".log")
    failures = []
    try:
        with open(log_path, "wb") as log:
            browser = Browser(args.browser, profile, log)
            try:
                target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)
                attached = browser.send(
                    "Target.attachToTarget",
                    {"targetId": target["targetId"], "flatten": True},
                    session=False,
                )
                browser.session = attached["sessionId"]
                for domain in ("Runtime", "Log", "Page", "Network"):
                    browser.send(f"{domain}.enable")
                browser.send(
                    "Emulation.setDeviceMetricsOverride",
                    {"width": args.width, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
                )
                browser.events.clear()
                nav = browser.send("Page.navigate", {"url": page_url})
                if nav.get("errorText"):
                    failures.append(f"navigation failed: {nav['errorText']}")
                browser.wait_for("Page.loadEventFired")
                browser.drain(0.5)  # late console messages and CSP reports
                probe = browser.send(
                    "Runtime.evaluate", {"expression": PROBE, "returnByValue": True}
                )
                if "exceptionDetails" in probe:
                    raise RuntimeError(f"the page probe failed: {probe['exceptionDetails']}")
                info = probe["result"]["value"]
                failures += problems_in(browser.events, page_url)

                charts = info["charts"]
                for c in charts:
                    why = []
                    if c["width"] <= 0 or c["height"] <= 0:
                        why.append(f"rendered size {c['width']}x{c['height']}")
                    if c["display"] == "none" or c["visibility"] == "hidden" or c["opacity"] <= 0:
                        why.append(f"display={c['display']} visibility={c['visibility']} opacity={c['opacity']}")
                    if c["contentWidth"] <= 0 or c["contentHeight"] <= 0 or c["shapes"] == 0:
                        why.append("nothing drawn inside")
                    if why:
                        failures.append(f"chart {c['index']} ({c['title']!r}) not visible: {'; '.join(why)}")
                if len(charts) < args.min_charts:
                    failures.append(f"{len(charts)} charts on the page, expected at least {args.min_charts}")

                if args.screenshot:
                    screenshot(browser, args.screenshot, {"x": 0, "y": 0, "width": args.width, "height": info["height"]})
                    print(f"screenshot: {args.screenshot}")
                if args.chart_shots:
                    os.makedirs(args.chart_shots, exist_ok=True)
                    for c in charts:
                        if c["width"] > 0 and c["height"] > 0:
                            path = os.path.join(args.chart_shots, f"chart-{c['index']:02d}.png")
                            clip = {"x": c["x"], "y": c["y"], "width": c["width"], "height": c["height"]}
                            screenshot(browser, path, clip)
                    print(f"chart screenshots: {args.chart_shots}")
            finally:
                browser.close()
    except (TimeoutError, ConnectionError, RuntimeError, OSError) as err:
        log_tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
        print(f"error: the browser check could not run: {err}\n{log_tail}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        try:
            log_path.unlink()
        except OSError:
            pass

    print(f"{report.name}: {len(charts)} charts, page {info['height']} px tall, title {info['title']!r}")
    if failures:
        for f in failures:
            print(f"FAIL: {f}")
        return 1
    print("ok: no console errors, no outside requests, every chart visible")
    return 0


if __name__ == "__main__":
    sys.exit(main())
