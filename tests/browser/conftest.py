"""浏览器测试的夹具：本机端口上的网站、无头 Chromium（Debian 的 chromium 与 chromium-driver，由 Selenium 驱动）。

由 make test-browser 运行（它先 make book）。截图存到 _build/book/screenshots/，作为测试的产物留下。
"""
from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
import pytest

from browser_support import SCREENSHOTS, SITE

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium 不去下载浏览器或驱动


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


def find_program(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"找不到 {names[0]}：apt-get install chromium chromium-driver (Debian/Ubuntu)")


@pytest.fixture(scope="session")
def browser():
    """无头 Chromium；记录控制台消息与每个网络请求（performance 日志）。"""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM") or find_program("chromium", "chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--window-size=1280,900", "--lang=zh-CN"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER") or find_program("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()

