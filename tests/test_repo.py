"""仓库一致性：依赖版本、笔记本约定、README 与 CI 入口。"""
import json
import re
import subprocess
import sys

import pytest

from utils.course_setup import COLAB_MISSING
from utils.settings import REPO_ROOT, REPO_URL

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")
COLAB = REPO_URL.replace("https://github.com/", "https://colab.research.google.com/github/") + "/blob/main/notebooks/"


def requirement_lines(text):
    """requirements 文件（或 environment.yml 的 pip 部分）里的每条要求，去掉注释和缩进。"""
    lines = (re.sub(r"^\s*-\s*", "", line.split("#")[0]).strip() for line in text.splitlines())
    return [line for line in lines if PIN.match(line)]


def pins(text):
    return {PIN.match(line)[1].lower(): PIN.match(line)[2] for line in requirement_lines(text)}


def read(name):
    return (REPO_ROOT / name).read_text(encoding="utf-8")


def test_requirements_and_environment_yml_agree():
    req = requirement_lines(read("requirements.txt"))
    assert req and req == requirement_lines(read("environment.yml"))
    for line in read("requirements.txt").splitlines():
        line = line.split("#")[0].strip()
        assert not line or "==" in line, f"requirements.txt 里没有锁定版本: {line}"
    assert pins(read("requirements.txt"))["torch"] == "2.13.0"
    # tensorflow-cpu 没有 macOS 的包：macOS 上装同一版本的 tensorflow
    assert 'tensorflow-cpu==2.21.0; sys_platform != "darwin"' in req
    assert 'tensorflow==2.21.0; sys_platform == "darwin"' in req


def test_colab_requirements_install_what_the_setup_cell_installs():
    """Colab 缺的包，测试用的版本与第一个单元在 Colab 里装的（requirements.txt 的）相同。"""
    colab, course = pins(read("requirements-colab.txt")), pins(read("requirements.txt"))
    for package in COLAB_MISSING:
        assert colab[package] == course[package], package
    assert colab["tensorflow"] == "2.20.0" and colab["torch"] == "2.11.0" and colab["numpy"] == "2.1.3"


@pytest.mark.skipif(sys.platform == "win32", reason="Windows 上不用 make（README 给出手动命令）")
def test_makefile_stops_early_on_an_unsupported_python(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 3.10\n")
    fake.chmod(0o755)
    bad = subprocess.run(["make", "--no-print-directory", "check-python", f"PYTHON={fake}"], cwd=REPO_ROOT,
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "需要 Python 3.11、3.12 或 3.13" in bad.stdout and "PYTHON=python3.12" in bad.stdout
    good = subprocess.run(["make", "--no-print-directory", "check-python", f"PYTHON={sys.executable}"],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert good.returncode == 0, good.stdout


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("lab", "test", "execute", "data"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def cells(nb):
    return json.loads(nb.read_text(encoding="utf-8"))["cells"]


def text(cell):
    return "".join(cell["source"])


SETUP_CELL = text(next(c for c in cells(NOTEBOOKS[0]) if c["cell_type"] == "code"))  # 第 0 章的第一个单元


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_conventions(nb):
    cs = cells(nb)
    first = text(cs[0])
    assert first.startswith("# ") and "## 学习目标" in first
    assert COLAB + nb.name in first, "Colab 徽章应指向这个笔记本"
    code = [c for c in cs if c["cell_type"] == "code" and text(c).strip()]
    setup = text(code[0])
    assert "google.colab" in setup and "FAST = prepare(COURSE_FAST)" in setup
    assert re.search(r"^COURSE_FAST = False", setup, re.M), "第一个单元应有看得见的快速模式开关"
    assert f'REPO_URL = "{REPO_URL}"' in setup, "第一个单元克隆的仓库应是 utils.settings.REPO_URL"
    assert setup == SETUP_CELL, "每章的第一个单元应与第 0 章的一字不差（改了一处就照样改所有章）"
    assert len(setup.splitlines()) <= 17, "第一个单元应短：两个可改的设置、找到仓库、一次 prepare()"
    headings = [line for c in cs if c["cell_type"] == "markdown" for line in text(c).splitlines()]
    assert any(h.startswith("## 小结") for h in headings) and any(h.startswith("## 练习") for h in headings)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_are_from_one_clean_full_run(nb):
    code = [c for c in cells(nb) if c["cell_type"] == "code" and text(c).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts and counts == sorted(counts), "应从上到下完整运行一遍"
    assert "完整模式" in json.dumps(code[0]["outputs"], ensure_ascii=False), "提交的应是完整模式的输出"
    for c in code:
        for out in c["outputs"]:
            assert out["output_type"] != "error", text(c)[:80]
            dumped = json.dumps(out, ensure_ascii=False)
            assert not re.search(r"/(root|tmp|home|work|Users)/", dumped), "输出里有本机路径"
            if out.get("name") == "stderr":
                assert "absl::InitializeLog" not in dumped and "oneDNN" not in dumped


def test_readme_lists_every_notebook():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.name}" in readme and COLAB + nb.name in readme, nb.name


def test_every_colab_link_points_into_this_repository():
    """仓库地址只写在 utils.settings.REPO_URL：README 与笔记本里每个 Colab 链接都由它而来。"""
    files = [REPO_ROOT / "README.md", *NOTEBOOKS]
    links = [(f.name, m) for f in files
             for m in re.findall(r"https://colab\.research\.google\.com/github/[^\s)\"\\]+", f.read_text(encoding="utf-8"))]
    assert len(links) >= 2 * len(NOTEBOOKS)
    wrong = [(name, link) for name, link in links if not link.startswith(COLAB)]
    assert not wrong, wrong


# 术语表里“不说”的说法（正则） -> 该用的词
AVOID = {"隐藏状态": "隐状态", "共用嵌入": "共享嵌入", "本机": "作者的测试机", "曝光偏差": "暴露偏差",
         "抄袭": "照抄", "(?<!照)抄训练集": "照抄", "机会基线": "打乱基线"}


def prose(markdown):
    """正文：去掉代码块和行内代码（代码里的键名、标识符不算正文）。"""
    return re.sub(r"```.*?```|`[^`\n]*`", " ", markdown, flags=re.S)


def test_the_prose_uses_the_glossary_words():
    """README 的术语表：正文（markdown 单元与 README）里不用它列出的另一种说法。"""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    before, rest = readme.split("## 术语表", 1)
    glossary, after = rest.split("\n## ", 1)
    for use in set(AVOID.values()):
        assert f"| {use} |" in glossary, f"术语表里没有“{use}”这一行"
    texts = {"README.md": prose(before + after)}
    for nb in NOTEBOOKS:
        texts[nb.name] = prose("\n".join(text(c) for c in cells(nb) if c["cell_type"] == "markdown"))
    found = [(name, m, use) for name, t in texts.items() for word, use in AVOID.items() for m in re.findall(word, t)]
    found += [(name, m, "第 6 章") for name, t in texts.items() for m in re.findall(r"第 0\d[^章]{0,12}章", t)]
    assert not found, f"请改用术语表里的说法（文件, 写的是, 该用）：{found}"


def test_make_poem_options_go_through_args():
    """make 不认 --form 这样的选项：README 与笔记本里的 make poem 都要把选项放进 ARGS="…"。"""
    files = [REPO_ROOT / "README.md", *NOTEBOOKS]
    wrong = [(f.name, m) for f in files for m in re.findall(r"make poem\s+--[\w-]+", f.read_text(encoding="utf-8"))]
    assert not wrong, wrong


def test_book_requirements_are_pinned_and_agree_with_the_course():
    """网站与浏览器测试的依赖（requirements-book.txt）全部锁定；与课程共有的包版本相同。"""
    book, course = pins(read("requirements-book.txt")), pins(read("requirements.txt"))
    for line in read("requirements-book.txt").splitlines():
        line = line.split("#")[0].strip()
        assert not line or "==" in line, f"requirements-book.txt 里没有锁定版本: {line}"
    shared = set(book) & set(course)
    assert {"jieba", "mplfonts", "pytest"} <= shared
    assert {name: book[name] for name in shared} == {name: course[name] for name in shared}


def test_ci_builds_the_site_and_runs_the_browser_tests():
    makefile = read("Makefile")
    for target in ("book", "serve-book", "test-browser"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "make test-browser" in read(".ci/run")
    assert "make book" in read(".github/workflows/pages.yml")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_hint_and_a_worked_solution(nb):
    """“练习”一节：每道题（**1.** …）后面都有可以展开的提示和参考解答（<details>）。"""
    markdown = "\n".join(text(c) for c in cells(nb) if c["cell_type"] == "markdown")
    assert "## 练习" in markdown
    exercises = markdown.split("## 练习", 1)[1]
    count = len(re.findall(r"^\*\*\d+\.\*\*", exercises, re.M))
    assert count >= 3, "至少三道练习"
    assert len(re.findall(r"<details><summary>提示", exercises)) == count
    assert len(re.findall(r"<details><summary>参考解答", exercises)) == count
