"""写诗小部件在真正的 JupyterLab 4 里：打开笔记本、运行单元、填藏头字、点“写诗”，看到一首合格的藏头七绝；
再填一个词表里没有的字，看到与命令行相同的中文说明，而不是 traceback。

JupyterLab 用课程的 .venv（make test-browser 先准备好它），浏览器是无头 Chromium。
模型是随机初始化的小模型：这里测的是界面的接线，写诗本身由 tests/test_poem_widget.py 测。
"""
from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from browser_support import REPO, SCREENSHOTS, start_chromium

JUPYTER = REPO / ".venv" / ("Scripts" if sys.platform == "win32" else "bin") / "jupyter"
SETUP = f"""import sys
sys.path.insert(0, {str(REPO)!r})
import torch
from utils.data import Vocab
from utils.metre import tone_table
from utils.poem_widget import PoemWriter
from utils.torch_poems import build_model, gen

torch.manual_seed(0)
vocab = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *tone_table()])
model = build_model(len(vocab), device=torch.device("cpu"), cell="gru", embed_dim=8, hidden_dim=8, num_layers=1)"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """在临时目录里启动 JupyterLab（只听 127.0.0.1，带随机令牌），放一个显示写诗小部件的笔记本。"""
    if not JUPYTER.exists():
        pytest.fail("没有课程的 .venv：先运行 make setup（make test-browser 会自动准备）")
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP),
                nbformat.v4.new_code_cell("PoemWriter(lambda **kw: gen(model, vocab, **kw), count=1)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "writer.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".config"), "JUPYTER_DATA_DIR": str(root / ".data"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"), "JUPYTERLAB_WORKSPACES_DIR": str(root / ".ws")}
    args = [str(JUPYTER), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    log = open(root / "lab.log", "w", encoding="utf-8")
    server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("JupyterLab 没有启动：\n" + (root / "lab.log").read_text(encoding="utf-8")[-3000:])
            time.sleep(0.5)
    yield f"{url}/lab/tree/writer.ipynb?token={token}"
    server.terminate()
    server.wait(timeout=30)
    log.close()


FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{}</dir></fontconfig>
"""


@pytest.fixture(scope="module")
def lab_browser(tmp_path_factory):
    """给 JupyterLab 用的浏览器：另外看得见课程 .venv 里的中文字体（utils.plotting 给图用的那一个），
    所以截图里的汉字不是方框。检查网站的浏览器（browser）不这样做：网站必须用它自带的字体。"""
    found = subprocess.run([str(JUPYTER.parent / "python"), "-c",
                            "from utils.plotting import bundled_font_path; print(bundled_font_path() or '')"],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    env = dict(os.environ)
    if found:
        fonts = tmp_path_factory.mktemp("fonts")
        (fonts / os.path.basename(found)).symlink_to(found)
        (fonts / "fonts.conf").write_text(FONTS_CONF.format(fonts), encoding="utf-8")
        env["FONTCONFIG_FILE"] = str(fonts / "fonts.conf")
    driver = start_chromium(env)
    yield driver
    driver.quit()


def widget_input(browser, label: str):
    """小部件里说明文字为 label 的输入框。"""
    return browser.find_element(By.XPATH, f"//div[contains(@class,'widget-text')][label[normalize-space()='{label}']]//input")


def write_poem(browser) -> str:
    """点“写诗”，等输出区出现新内容，返回它的文字。"""
    output = browser.find_element(By.CSS_SELECTOR, ".widget-html-content")
    before = output.get_attribute("innerHTML")
    browser.find_element(By.XPATH, "//button[normalize-space()='写诗']").click()
    WebDriverWait(browser, 60).until(lambda d: output.get_attribute("innerHTML") not in ("", before))
    return output.text


def test_the_poem_writer_works_in_jupyterlab(lab_browser, lab):
    browser = lab_browser
    browser.get(lab)
    WebDriverWait(browser, 120).until(lambda d: d.execute_script(
        "return !!(window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell'))"))
    # 等内核空闲再运行全部单元
    WebDriverWait(browser, 120).until(lambda d: d.execute_script("""
        const panel = window.jupyterapp.shell.currentWidget;
        const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
        return !!kernel && kernel.status === 'idle';"""))
    browser.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    WebDriverWait(browser, 120).until(lambda d: d.find_elements(By.XPATH, "//button[normalize-space()='写诗']"))

    form = browser.find_element(By.CSS_SELECTOR, ".widget-dropdown select")
    form.send_keys("七绝")
    acrostic = widget_input(browser, "藏头字")
    acrostic.send_keys("春江花月", Keys.TAB)
    poem = write_poem(browser)
    sentences = re.findall(r"[^，。\s]+", poem)
    assert [s[0] for s in sentences] == list("春江花月"), poem
    assert all(len(s) == 7 for s in sentences), poem
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "lab-poem-writer.png"))

    acrostic.send_keys(Keys.CONTROL, "a")
    acrostic.send_keys(Keys.BACKSPACE)  # 像人一样删掉（clear() 不触发 input 事件，小部件收不到）
    widget_input(browser, "开头").send_keys("龘", Keys.TAB)
    message = write_poem(browser)
    assert "不在词表" in message, message
    page = browser.find_element(By.CSS_SELECTOR, ".jp-Notebook").text
    assert "Traceback" not in page, page[-2000:]
