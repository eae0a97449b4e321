"""make book：把 README 和提交的笔记本做成课程网站（静态 HTML，在 _build/book/html），不重新执行笔记本。

网站不依赖任何 CDN：MathJax 3 和 mermaid 是锁定版本的 npm 包（装在 .cache/npm，只有第一次要联网），
复制进网站的 _static；中文字体是 mplfonts 带的 Noto Sans CJK SC，只留网站实际用到的字（woff2，约 2 MB）。

源文件先复制到 _build/book/src 再改写，仓库里的文件不动：
- 流程图：笔记本里嵌的 PNG 附件换成它的 Mermaid 源文件（notebooks/diagrams/*.mmd），网页上画成 SVG；
- Colab 徽章：换成网站自带的 SVG（原来的图片放在 colab.research.google.com 上）；
- 指向仓库里其他文件（utils/、data/README.md……）的相对链接改成 GitHub 上的地址；
- 段落里中文之间的换行去掉（浏览器会把它显示成空格）。

用法：python -m scripts.build_book   （在仓库根目录运行，或 make book；打开 _build/book/html/index.html，或 make serve-book）
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from scripts.render_diagrams import MERMAID_VERSION, npm_package
from utils.plotting import bundled_font_path
from utils.settings import REPO_URL

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "_build" / "book"
SRC, HTML, ASSETS = BUILD / "src", BUILD / "html", BUILD / "assets"
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DIAGRAMS = REPO / "notebooks" / "diagrams"
MATHJAX_VERSION = "3.2.2"  # MathJax 4 默认从 CDN 取字体，3 的字体就在包里
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_FILE = "colab-badge.svg"
FONT_FILE = "course-cjk.woff2"
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")
DIAGRAM = re.compile(r"!\[([^\]]*)\]\(attachment:([\w-]+)\.png\)")
# 从别的网站加载的东西：<script src>、<link href>、<img src>、<iframe src>，以及 ES 模块的 import ... from
# 中文行尾的换行：浏览器会把它显示成一个空格（“一一对照。 函数名”）；下一行以汉字、中文标点、`、** 开头时把两行接上
CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
SOFT_BREAK = re.compile(rf"(?<=[{CJK}])\n(?=[{CJK}]|`|\*\*)")
REMOTE_ASSET = re.compile(r"""(?:<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=|\bimport\b[^;"']*\bfrom\s*)"""
                          r"""["']((?:https?:)?//[^"']+)""")


def rewrite_links(text: str, doc: Path, documents: set[Path]) -> str:
    """doc 里的 Markdown 链接：网站里有的页面照旧，仓库里的图片复制进网站，别的文件改成 GitHub 地址，
    Colab 徽章换成本地图片。"""
    badge = "../" * (len(doc.relative_to(REPO).parts) - 1) + BADGE_FILE

    def fix(match: re.Match) -> str:
        label, target = match.groups()
        if target == COLAB_BADGE:
            return f"{label}({badge})"
        if re.match(r"[a-z]+:|#|/", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = (doc.parent / path).resolve()
        if resolved in documents or not resolved.is_relative_to(REPO):
            return match.group(0)
        if label.startswith("!") and resolved.is_file():  # 仓库里的图片：复制进网站，不从 GitHub 加载
            copy = SRC / resolved.relative_to(REPO)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(resolved, copy)
            return match.group(0)
        kind = "tree" if resolved.is_dir() else "blob"
        url = f"{REPO_URL}/{kind}/main/{resolved.relative_to(REPO).as_posix()}"
        return f"{label}({url}{'#' + anchor if anchor else ''})"

    return LINK.sub(fix, text)


def join_cjk_lines(text: str) -> str:
    """把段落里中文之间的软换行去掉（代码块里的不动）。"""
    parts = re.split(r"(^```.*?^```)", text, flags=re.M | re.S)
    return "".join(part if part.startswith("```") else SOFT_BREAK.sub("", part) for part in parts)


def mermaid_for_diagrams(text: str) -> str:
    """![图注](attachment:名字.png) -> 用 notebooks/diagrams/名字.mmd 画的 Mermaid 图（网页上是 SVG）。"""
    def fix(match: re.Match) -> str:
        caption, name = match.groups()
        source = (DIAGRAMS / f"{name}.mmd").read_text(encoding="utf-8").strip()
        return f"```{{mermaid}}\n:caption: {caption}\n\n{source}\n```"

    return DIAGRAM.sub(fix, text)


def stage() -> int:
    """把 README 和笔记本复制到 SRC 并改写；返回换成 Mermaid 的流程图个数。"""
    shutil.rmtree(SRC, ignore_errors=True)
    (SRC / "notebooks").mkdir(parents=True)
    shutil.copy(REPO / "book" / BADGE_FILE, SRC / BADGE_FILE)
    documents = {REPO / "README.md", *NOTEBOOKS}
    diagrams = 0
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            diagrams += len(DIAGRAM.findall(cell.source))
            cell.source = rewrite_links(mermaid_for_diagrams(join_cjk_lines(cell.source)), path, documents)
            cell.pop("attachments", None)
        nbformat.write(nb, SRC / "notebooks" / path.name)
    readme = rewrite_links(join_cjk_lines((REPO / "README.md").read_text(encoding="utf-8")), REPO / "README.md",
                           documents)
    chapters = "\n".join(f"notebooks/{p.stem}" for p in NOTEBOOKS)
    readme += f"\n\n```{{toctree}}\n:hidden:\n:caption: 各章\n\n{chapters}\n```\n"
    (SRC / "README.md").write_text(readme, encoding="utf-8")
    return diagrams


def copy_scripts() -> None:
    """把 MathJax 与 mermaid 复制进 ASSETS（Sphinx 再把它放进网站的 _static）。"""
    shutil.rmtree(ASSETS, ignore_errors=True)
    mathjax = npm_package("mathjax", MATHJAX_VERSION) / "es5"
    # sre（语音朗读）与 full/svg/mml 的合集网站用不到
    shutil.copytree(mathjax, ASSETS / "mathjax",
                    ignore=shutil.ignore_patterns("sre", "*-full*", "*svg*", "mml-*", "tex-mml-*"))
    dist = npm_package("mermaid", MERMAID_VERSION) / "dist"
    (ASSETS / "mermaid").mkdir(parents=True)
    shutil.copy(dist / "mermaid.esm.min.mjs", ASSETS / "mermaid")
    shutil.copytree(dist / "chunks" / "mermaid.esm.min", ASSETS / "mermaid" / "chunks" / "mermaid.esm.min",
                    ignore=shutil.ignore_patterns("*.map"))


def site_text() -> str:
    """网站上所有会显示的文字（网页与搜索索引）。"""
    files = [*HTML.rglob("*.html"), HTML / "searchindex.js"]
    return "".join(f.read_text(encoding="utf-8") for f in files)


def subset_font() -> tuple[int, int]:
    """把 Noto Sans CJK SC 裁成网站用到的字，存为 woff2；返回 (字数, 字节数)。"""
    from fontTools import subset

    font = bundled_font_path()
    if font is None:
        raise SystemExit("找不到 mplfonts 包里的中文字体：先运行 make book（它会装 requirements-book.txt）")
    chars = sorted({c for c in site_text() if ord(c) > 0x2000})
    out = HTML / "_static" / "fonts" / FONT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    loaded = subset.load_font(str(font), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(chars))
    subsetter.subset(loaded)
    subset.save_font(loaded, str(out), options)
    return len(chars), out.stat().st_size


def check_local_assets() -> None:
    """网页里的脚本、样式、图片都必须来自网站自己（浏览器测试会在真实的 Chromium 里再查一遍）。"""
    remote = sorted({(p.relative_to(HTML).as_posix(), url) for p in HTML.rglob("*.html")
                     for url in REMOTE_ASSET.findall(p.read_text(encoding="utf-8"))})
    if remote:
        raise SystemExit("网页从别的网站加载资源：\n" + "\n".join(f"  {page}: {url}" for page, url in remote))


def main() -> None:
    start = time.perf_counter()
    diagrams = stage()
    copy_scripts()
    shutil.rmtree(HTML, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
                    "-c", str(REPO / "book"), str(SRC), str(HTML)], check=True)
    # GitHub Pages 和浏览器打开目录时找 index.html：跳到首页 README.html
    (HTML / "index.html").write_text('<!doctype html><meta charset="utf-8"><title>循环神经网络，从原理到写唐诗</title>'
                                     '<meta http-equiv="refresh" content="0; url=README.html">'
                                     '<a href="README.html">README.html</a>\n', encoding="utf-8")
    (HTML / ".nojekyll").touch()
    chars, size = subset_font()
    check_local_assets()
    pages = len(NOTEBOOKS) + 1
    print(f"网站已生成：{HTML.relative_to(REPO)}/index.html（{pages} 页，{diagrams} 张 Mermaid 图，"
          f"字体 {chars} 个字 {size / 1e6:.1f} MB，用时 {time.perf_counter() - start:.0f} 秒）")


if __name__ == "__main__":
    main()
