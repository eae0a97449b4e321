"""把 notebooks/diagrams/*.mmd（Mermaid 流程图）画成 PNG，作为附件嵌进显示它的笔记本单元。

Colab 不渲染 Mermaid，所以笔记本里放的是图片；.mmd 才是图的唯一来源。每张 PNG 的 tEXt 块
`source-sha256` 记下画它时源文件的 sha256，tests/test_diagrams.py 据此发现过期的图。

做法：npm 包 mermaid（锁定版本，装在 .cache/npm/mermaid）在 Debian 的无头 Chromium 里把图画出来，
截图后用 Pillow 裁掉空白。中文用 PyPI 包 mplfonts 带的 Noto Sans CJK SC（@font-face 加载），
所以机器上不需要装中文字体。只读本地文件，不联网（第一次运行时 npm install 除外）。

加一张图：写 diagrams/名字.mmd，在 markdown 单元里写 `![图注](attachment:名字.png)`，再运行本脚本。
源文件没变的图直接跳过（--force 强制重画）。

用法：python -m scripts.render_diagrams [--force]   （在仓库根目录运行，或 make diagrams）
需要：apt-get install chromium（或用环境变量 CHROMIUM 指向 Chrome/Chromium）、node 与 npm。
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from PIL import Image, ImageChops, ImageOps, PngImagePlugin

from utils.plotting import bundled_font_path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
DIAGRAMS = NOTEBOOKS / "diagrams"
MERMAID_VERSION = "12.3.0"  # 网站（scripts/build_book.py）用同一版本
NPM_CACHE = REPO / ".cache" / "npm"
SHA_KEY = "source-sha256"
WINDOW = (2400, 1600)  # 截图窗口（CSS 像素）；图碰到边缘就报错，说明要调大
SCALE = 2              # 设备像素比：2 倍分辨率，字更清楚
MAX_SIZE = (1800, 1200)  # 成品最大像素：笔记本按像素原样显示窄图，太大的竖图要缩小
PAGE = """<!doctype html><meta charset="utf-8">
<style>
@font-face {{ font-family: "CourseCJK"; src: url("{font}"); }}
body {{ margin: 0; background: #fff; }}
#out {{ display: inline-block; padding: 16px; }}
</style>
<script src="{mermaid}"></script>
<div id="out"></div>
<script>
(async () => {{
  try {{
    await document.fonts.load('16px CourseCJK', '中');  // 先加载字体，mermaid 按它量文字宽度
    mermaid.initialize({{startOnLoad: false, theme: "default", fontFamily: "CourseCJK, sans-serif",
                        // 按图的实际大小画、不缩放；标签只在源文件写了 <br/> 的地方换行
                        flowchart: {{useMaxWidth: false, wrappingWidth: 400}}}});
    const {{svg}} = await mermaid.render("diagram", {source});
    document.getElementById("out").innerHTML = svg;
    document.title = "ok";
  }} catch (err) {{
    document.title = "error: " + err;
  }}
}})();
</script>
"""


def source_sha(mmd: Path) -> str:
    """源文件的 sha256（按文本读，Windows 的换行不影响结果）。"""
    return hashlib.sha256(mmd.read_text(encoding="utf-8").encode("utf-8")).hexdigest()


def recorded_sha(png_b64: str) -> str | None:
    """PNG 里记录的源文件 sha256。"""
    return Image.open(io.BytesIO(base64.b64decode(png_b64))).text.get(SHA_KEY)


def npm_package(name: str, version: str) -> Path:
    """需要时把锁定版本的 npm 包装进 .cache/npm/名字，返回包的目录（只有第一次要联网）。"""
    prefix = NPM_CACHE / name
    package = prefix / "node_modules" / name
    manifest = package / "package.json"
    if not (manifest.exists() and json.loads(manifest.read_text(encoding="utf-8"))["version"] == version):
        if not shutil.which("npm"):
            raise SystemExit(f"找不到 npm：装上 Node.js（Debian/Ubuntu：apt-get install npm）再运行 (npm is needed for {name})")
        print(f"安装 {name}@{version} 到 {prefix} ...", flush=True)
        subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                        "--loglevel=error", f"{name}@{version}"], check=True)
    return package


def cjk_font() -> Path:
    """mplfonts 包里的 Noto Sans CJK SC，与 matplotlib 用的是同一个字体文件。"""
    path = bundled_font_path()
    if path is None:
        raise SystemExit("找不到 mplfonts 包里的中文字体，先运行 make setup")
    return path


def chromium() -> str:
    browser = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not browser:
        raise SystemExit("找不到 Chromium：Debian/Ubuntu 上运行 apt-get install chromium，或设置 CHROMIUM")
    return browser


def render(source: str, sha: str, mermaid_js: Path) -> bytes:
    """在无头 Chromium 里画图、截图，裁掉空白，返回带 sha256 记录的 PNG。"""
    with tempfile.TemporaryDirectory() as tmp:
        page, shot = Path(tmp) / "page.html", Path(tmp) / "shot.png"
        page.write_text(PAGE.format(font=cjk_font().as_uri(), mermaid=mermaid_js.as_uri(),
                                    source=json.dumps(source)), encoding="utf-8")
        dom = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={tmp}/profile", f"--window-size={WINDOW[0]},{WINDOW[1]}",
             f"--force-device-scale-factor={SCALE}", "--virtual-time-budget=20000",
             f"--screenshot={shot}", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=180).stdout
        title = re.search(r"<title>(.*?)</title>", dom, re.S)
        if not title or title.group(1) != "ok" or not shot.exists():
            raise SystemExit(f"Mermaid 没画出来：{html.unescape(title.group(1)) if title else '页面没有加载完'}")
        image = Image.open(shot).convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    if box is None or box[2] >= image.width or box[3] >= image.height:
        raise SystemExit("图是空的，或者比截图窗口还大（调大 WINDOW）")
    image = ImageOps.expand(image.crop(box), border=12 * SCALE, fill="white")
    image.thumbnail(MAX_SIZE, Image.Resampling.LANCZOS)
    image = image.quantize(64, dither=Image.Dither.NONE)  # 64 色调色板：文件小几倍，看不出差别
    info = PngImagePlugin.PngInfo()
    info.add_text(SHA_KEY, sha)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True, pnginfo=info)
    return out.getvalue()


def find_cell(name: str):
    """返回引用 attachment:名字.png 的 (笔记本路径, markdown 单元)；没有就返回 (None, None)。"""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown" and f"attachment:{name}.png" in cell.source:
                return path, cell
    return None, None


def embed(path: Path, name: str, png: bytes) -> None:
    """把 PNG 作为附件放进引用它的单元；笔记本别的地方不动。"""
    nb = nbformat.read(path, as_version=4)  # 紧挨着写之前重读，不覆盖别人刚做的改动
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and f"attachment:{name}.png" in c.source)
    cell.setdefault("attachments", {})[f"{name}.png"] = {"image/png": base64.b64encode(png).decode()}
    nbformat.write(nb, path)


def main() -> None:
    force = "--force" in sys.argv[1:]
    mermaid_js = npm_package("mermaid", MERMAID_VERSION) / "dist" / "mermaid.min.js"
    for mmd in sorted(DIAGRAMS.glob("*.mmd")):
        name, source, sha = mmd.stem, mmd.read_text(encoding="utf-8"), source_sha(mmd)
        path, cell = find_cell(name)
        if path is None:
            raise SystemExit(f"没有哪个笔记本单元显示 {mmd.name}：在 markdown 里写 ![图注](attachment:{name}.png)")
        old = cell.get("attachments", {}).get(f"{name}.png")
        if old and recorded_sha(old["image/png"]) == sha and not force:
            print(f"{mmd.name}: 已是最新")
            continue
        png = render(source, sha, mermaid_js)
        embed(path, name, png)
        print(f"{mmd.name} -> {path.name}（{len(png) // 1024} KB）")


if __name__ == "__main__":
    main()
