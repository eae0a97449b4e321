"""浏览器测试共用的路径与小工具（夹具在 conftest.py）。"""
from __future__ import annotations

import json
from pathlib import Path

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
