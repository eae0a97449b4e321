"""浏览器测试的夹具：本机端口上的网站、无头 Chromium（Debian 的 chromium 与 chromium-driver，由 Selenium 驱动）。

由 make test-browser 运行（它先 make book）。截图存到 _build/book/screenshots/，作为测试的产物留下。
"""
from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from browser_support import SITE, start_chromium


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    """在 127.0.0.1 的一个空闲端口上提供 _build/book/html。"""
    if not (SITE / "README.html").exists():
        pytest.fail("网站还没有生成：先运行 make book (run make book first)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """检查网站用的浏览器：只有机器自己的字体（没有中文字体的机器上，汉字只能来自网站自带的字体）。"""
    driver = start_chromium()
    yield driver
    driver.quit()

