"""仓库一致性：依赖版本、笔记本约定、README 与 CI 入口。"""
import json
import re

import pytest

from utils.settings import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PIN = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.\-]+)==([^\s#]+)", re.M)
COLAB = "https://colab.research.google.com/github/rnn-tang-poems/rnn-tang-poems/blob/main/notebooks/"


def pins(text):
    return {name.lower(): version for name, version in PIN.findall(text)}


def test_requirements_and_environment_yml_agree():
    req = pins((REPO_ROOT / "requirements.txt").read_text(encoding="utf-8"))
    env = pins((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert req and req == env
    for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        assert not line or "==" in line, f"requirements.txt 里没有锁定版本: {line}"
    assert req["torch"] == "2.13.0" and req["tensorflow-cpu"] == "2.21.0"


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


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_conventions(nb):
    cs = cells(nb)
    first = text(cs[0])
    assert first.startswith("# ") and "## 学习目标" in first
    assert COLAB + nb.name in first, "Colab 徽章应指向这个笔记本"
    code = [c for c in cs if c["cell_type"] == "code" and text(c).strip()]
    assert "from utils.settings import" in text(code[0]) and "google.colab" in text(code[0])
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
