"""课程网站在真实的浏览器里：每一页都不报错、不向别的网站发请求、公式排好、流程图画成 SVG、
图片都加载了、汉字用中文字体画（不是方框），手机宽度下不横向溢出；搜索找得到“遗忘门”。

期望的数目（几张流程图、有没有公式、几张输出的图）都从仓库里的笔记本数出来，不是写死的。
"""
from __future__ import annotations

import json
import re
import sys
from urllib.parse import quote

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from browser_support import REPO, SCREENSHOTS, requested_urls

sys.path.insert(0, str(REPO))
from utils.plotting import CJK_FONTS  # noqa: E402
from utils.settings import REPO_URL  # noqa: E402

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PAGES = ["README", *(f"notebooks/{nb.stem}" for nb in NOTEBOOKS)]
COLAB = REPO_URL.replace("https://github.com/", "https://colab.research.google.com/github/")
SCREENSHOT_PAGES = {"README": "site-home.png", "notebooks/04_lstm": "site-lstm.png"}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


def expected(page: str) -> dict:
    """这一页应有的流程图个数、是否有公式、至少几张图片（笔记本输出的图 + 徽章）。"""
    if page == "README":
        text = (REPO / "README.md").read_text(encoding="utf-8")
        return dict(diagrams=0, math="$" in text, images=text.count("colab-badge.svg"))
    cells = json.loads((REPO / f"{page}.ipynb").read_text(encoding="utf-8"))["cells"]
    markdown = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    diagrams = [n for n in re.findall(r"attachment:([\w-]+)\.png", markdown)
                if (REPO / "notebooks" / "diagrams" / f"{n}.mmd").exists()]
    return dict(diagrams=len(diagrams), math=bool(re.search(r"\$[^$\s]", markdown)),
                images=markdown.count("colab-badge.svg")
                + sum(any(t in o.get("data", {}) for t in IMAGE_TYPES) for o in outputs))


def open_page(browser, url: str) -> None:
    """打开一页，等 MathJax 排完公式；把每张流程图滚进视野（mermaid 只画看得见的图），等它们画完。"""
    browser.get_log("browser"), requested_urls(browser)  # 清空上一页的记录
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const wait = () => window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve();
        document.fonts.ready.then(wait).then(() => done(true), (e) => done(String(e)));""")
    for block in browser.find_elements(By.CSS_SELECTOR, ".mermaid"):
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", block)
    try:
        WebDriverWait(browser, 30).until(lambda d: d.execute_script(
            "return [...document.querySelectorAll('.mermaid')].every(b => b.querySelector('svg'))"))
    except TimeoutException:
        pass  # 没画出来的图由下面的断言报告，连同控制台错误和离开本机的请求
    browser.execute_script("window.scrollTo(0, 0)")


def cjk_font_problems(browser) -> list[str]:
    """挑出几种元素（标题、段落、表格、代码、输出、流程图）中含汉字的，用 CDP 问 Chromium 实际用哪个字体画了几个字。"""
    marked = browser.execute_script(r"""
        const han = /\p{Script=Han}/gu, seen = new Set(), out = [];
        const selector = 'main h1, main h2, main p, main li, main td, main th, main pre span, main .cell_output pre, '
                       + 'main .mermaid span, main .mermaid p, main .mermaid text';
        for (const el of document.querySelectorAll(selector)) {
          const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
          const count = (own.match(han) || []).length;
          const kind = el.closest('.mermaid') ? 'mermaid' : el.closest('.cell_output') ? 'output' : el.tagName;
          if (!count || seen.has(kind) || !el.getClientRects().length) continue;
          seen.add(kind);
          el.setAttribute('data-cjk-check', out.length);
          out.push([kind, count, own.trim().slice(0, 20)]);
        }
        return out;""")
    browser.execute_cdp_cmd("DOM.enable", {})
    browser.execute_cdp_cmd("CSS.enable", {})
    root = browser.execute_cdp_cmd("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    problems = []
    for i, (kind, count, text) in enumerate(marked):
        node = browser.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": f'[data-cjk-check="{i}"]'})
        fonts = browser.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
        drawn = sum(f["glyphCount"] for f in fonts if f["familyName"].startswith(CJK_FONTS))
        if drawn < count:
            problems.append(f"{kind}「{text}」：{count} 个汉字只有 {drawn} 个由中文字体画出（{fonts}）")
    if not marked:
        problems.append("页面上没有找到含汉字的元素")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_offline(browser, site_url, page):
    open_page(browser, f"{site_url}{page}.html")
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    outside = [u for u in requested_urls(browser) if not u.startswith((site_url, "data:", "blob:", "about:"))]
    assert not outside, f"请求离开了本机：{outside}"

    want = expected(page)
    math = browser.execute_script("""
        const blocks = [...document.querySelectorAll('main .math')];
        return [blocks.length, blocks.filter(b => b.querySelector('mjx-container')).length,
                document.querySelectorAll('mjx-merror, .MathJax_Error').length];""")
    assert math[0] == math[1] and math[2] == 0, f"公式 {math[0]} 处，排好 {math[1]} 处，出错 {math[2]} 处"
    assert (math[0] > 0) == want["math"], math
    diagrams = browser.execute_script(
        "return [...document.querySelectorAll('.mermaid')].filter(b => b.querySelector('svg g')).length")
    assert diagrams == want["diagrams"]
    images = browser.execute_script("""
        return [...document.querySelectorAll('main img')].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]);""")
    assert all(ok for _, ok in images), [src for src, ok in images if not ok]
    assert len(images) >= want["images"], (len(images), want["images"])
    assert not cjk_font_problems(browser), cjk_font_problems(browser)

    if page != "README":
        links = browser.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.href)")
        notebook = f"/blob/main/{page}.ipynb"
        assert f"{COLAB}{notebook}" in links, "没有 Colab 链接"
        assert any(link.startswith(f"{REPO_URL}{notebook}") for link in links), "没有 GitHub 链接"
    if page in SCREENSHOT_PAGES:
        browser.save_screenshot(str(SCREENSHOTS / SCREENSHOT_PAGES[page]))


@pytest.mark.parametrize("page", ["README", "notebooks/06_tf_poem_generation"])
def test_pages_fit_a_phone_screen(browser, site_url, page):
    """手机宽度（390 像素）下，页面本身不横向溢出（宽的表格和代码在自己的框里滚动）。"""
    browser.set_window_size(390, 844)
    try:
        open_page(browser, f"{site_url}{page}.html")
        width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
    finally:
        browser.set_window_size(1280, 900)


def test_search_finds_the_forget_gate(browser, site_url):
    browser.get(f"{site_url}search.html?q={quote('遗忘门')}")
    results = WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a"))
    links = [a.get_attribute("href") for a in results]
    assert any("04_lstm.html" in link for link in links), links
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
