"""课程网站的 Sphinx 设置（make book 调用，源文件由 scripts/build_book.py 准备在 _build/book/src）。

每个脚本、字体都从网站自己的 _static 里加载，不用任何 CDN：MathJax 3 与 mermaid 来自锁定版本的 npm 包，
中文字体是 mplfonts 带的 Noto Sans CJK SC 只留网站用到的字。笔记本不重新执行，显示的是提交的输出。
"""
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from utils.settings import REPO_URL  # noqa: E402

ASSETS = Path(os.environ.get("COURSE_BOOK_ASSETS", REPO / "_build" / "book" / "assets"))

project = "循环神经网络，从原理到写唐诗"
author = "rnn-tang-poems 的作者们"
copyright = "rnn-tang-poems 的作者们"
language = "zh_CN"
root_doc = "README"
extensions = ["myst_nb", "sphinxcontrib.mermaid"]
exclude_patterns = ["**.ipynb_checkpoints"]

# 笔记本：显示提交的完整运行输出，不重新执行
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
myst_fence_as_directive = ["mermaid"]
# 标题层级按教学需要写，不强求逐级；含 !shell 命令的代码单元按 Python 高亮失败时 Pygments 会放宽重试
suppress_warnings = ["myst.header", "misc.highlighting_failure"]

# 数学公式：本地的 MathJax 3（相对 _static）
mathjax_path = "mathjax/tex-chtml.js"
# 流程图：本地的 mermaid（ES 模块），中文用网站的字体
mermaid_use_local = "mermaid/mermaid.esm.min.mjs"
mermaid_init_config = {"startOnLoad": False, "fontFamily": "var(--course-font-family)"}
mermaid_fullscreen = False
mermaid_height = "auto"  # 按图本身的宽高比显示，不留 500px 的空白

# 中文搜索：jieba 分词，再加上课程的术语（遗忘门、隐状态……），让它们整词可搜
html_search_language = "zh"
html_search_options = {"dict": str(REPO / "book" / "search_words.txt")}

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static", str(ASSETS)]
html_css_files = ["course.css"]
html_favicon = "favicon.svg"
html_last_updated_fmt = None
html_show_sourcelink = False
html_context = {"default_mode": "auto"}  # 跟随读者系统的浅色/深色
html_theme_options = {
    "repository_url": REPO_URL,
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "use_source_button": True,  # 每页都链到 GitHub 上的笔记本
    "use_download_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "show_toc_level": 2,
}
