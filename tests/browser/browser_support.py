"""浏览器测试共用的路径与小工具（夹具在 conftest.py）。"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium 不去下载浏览器或驱动

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "_build" / "book" / "html"
SCREENSHOTS = REPO / "_build" / "book" / "screenshots"


def requested_urls(driver) -> list[str]:
    """上次调用以来页面发出的全部请求的地址（读 performance 日志会清空它）。"""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def find_program(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"找不到 {names[0]}：apt-get install chromium chromium-driver (Debian/Ubuntu)")


def start_chromium(env: dict | None = None):
    """启动无头 Chromium（env：给浏览器进程的环境变量，默认沿用本进程的）；记录控制台消息与每个网络请求（performance 日志）。"""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM") or find_program("chromium", "chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--window-size=1280,900", "--lang=zh-CN"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER") or find_program("chromedriver"), env=env)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(60)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return driver
