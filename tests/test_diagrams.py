"""流程图：notebooks/diagrams/*.mmd 是源文件，笔记本里嵌的 PNG 附件必须是由当前源文件画出来的。

每张 PNG 的 tEXt 块 source-sha256 记着画它时源文件的 sha256（scripts/render_diagrams.py 写入）。
"""
import base64
import hashlib
import io
import json
import re
import shutil

from PIL import Image

from utils.settings import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
REFERENCE = re.compile(r"attachment:([^\s)]+)")


def markdown_cells(notebooks):
    for nb in notebooks:
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                yield nb.name, cell, "".join(cell["source"])


def diagram_problems(notebooks, diagram_dir):
    """每个 .mmd 恰好被一个单元引用为附件，且附件记录的 sha256 与源文件相同；返回发现的问题。"""
    cells = list(markdown_cells(notebooks))
    problems = []
    for mmd in sorted(diagram_dir.glob("*.mmd")):
        name = mmd.stem + ".png"
        users = [cell for _, cell, text in cells if f"attachment:{name}" in text]
        if len(users) != 1:
            problems.append(f"{mmd.name} 应恰好被一个 markdown 单元引用（attachment:{name}），现在是 {len(users)} 个")
            continue
        png = users[0].get("attachments", {}).get(name, {}).get("image/png", "")
        recorded = Image.open(io.BytesIO(base64.b64decode(png))).text.get("source-sha256") if png else None
        current = hashlib.sha256(mmd.read_text(encoding="utf-8").encode("utf-8")).hexdigest()
        if recorded != current:
            problems.append(f"{name} 不是由当前的 {mmd.name} 画的：运行 make diagrams 重新生成")
    return problems


def test_every_diagram_is_embedded_and_up_to_date():
    assert sorted(NOTEBOOK_DIR.glob("diagrams/*.mmd")), "notebooks/diagrams/ 里没有 .mmd"
    problems = diagram_problems(NOTEBOOKS, NOTEBOOK_DIR / "diagrams")
    assert not problems, "\n".join(problems)


def test_staleness_check_notices_an_edited_source(tmp_path):
    # 对照：改动一份源文件的副本，检查必须报告这张图过期，而且只报告这一张
    shutil.copytree(NOTEBOOK_DIR / "diagrams", tmp_path, dirs_exist_ok=True)
    assert diagram_problems(NOTEBOOKS, tmp_path) == []
    mmd = sorted(tmp_path.glob("*.mmd"))[0]
    mmd.write_text(mmd.read_text(encoding="utf-8") + "    extra --> node\n", encoding="utf-8")
    problems = diagram_problems(NOTEBOOKS, tmp_path)
    assert len(problems) == 1 and mmd.name in problems[0] and "make diagrams" in problems[0]


def test_no_mermaid_blocks_left():
    # Colab 不渲染 Mermaid：图都应是 PNG 附件
    for nb, _, text in markdown_cells(NOTEBOOKS):
        assert "```mermaid" not in text, f"{nb} 里还有 ```mermaid 代码块：源码放进 notebooks/diagrams/，运行 make diagrams"


def test_every_attachment_reference_resolves():
    for nb, cell, text in markdown_cells(NOTEBOOKS):
        for name in REFERENCE.findall(text):
            assert name in cell.get("attachments", {}), f"{nb}：单元引用了 attachment:{name}，却没有这个附件"
