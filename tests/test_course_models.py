"""utils/course_models.py：与第 6、7 章笔记本里写出的设置一致；有检查点就读，没有（或词表不同）就训练并保存。"""
import json
import re

import pytest

from utils import course_models
from utils.data import process_dataset
from utils.settings import REPO_ROOT


def notebook_code(name):
    cells = json.loads((REPO_ROOT / "notebooks" / name).read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("framework, notebook", [("tf", "06_tf_poem_generation.ipynb"),
                                                 ("torch", "07_pytorch_poem_generation.ipynb")])
def test_the_chapters_use_the_same_settings(framework, notebook):
    code = notebook_code(notebook)
    m, t = course_models.MODEL, course_models.TRAIN
    assert f"max_steps=pick({course_models.STEPS[framework]}, " in code
    assert f"eval_every=pick({course_models.EVAL_EVERY}, " in code
    assert f"pick({m['adaptive_cutoffs']}, " in code
    assert f"embed_dim=pick({m['embed_dim']}, " in code and f"hidden_dim=pick({m['hidden_dim']}, " in code
    assert f"num_layers={m['num_layers']}" in code and f'cell="{m["cell"]}"' in code
    rates = {float(x) for x in re.findall(r"learning_rate=([0-9.e-]+)", code)}
    assert t["learning_rate"] in rates
    both = re.search(r"^BATCH, MAX_LEN = (\d+), (\d+)", code, re.M)  # 第 7 章一行写两个
    batch = both[1] if both else re.search(r"^BATCH = (\d+)", code, re.M)[1]
    max_len = both[2] if both else re.search(r"^MAX_LEN = (\d+)", code, re.M)[1]
    assert (int(batch), int(max_len)) == (t["batch_size"], t["max_len"])
    assert course_models.CHECKPOINTS[framework] in code


@pytest.fixture
def small(monkeypatch, tmp_path, torch_one_thread):
    """小数据、小模型、1 步训练，检查点放在临时目录。"""
    monkeypatch.setattr(course_models, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(course_models, "SHIPPED_DIR", tmp_path / "models")
    monkeypatch.setattr(course_models, "MODEL", dict(cell="lstm", embed_dim=8, hidden_dim=8, num_layers=1,
                                                     adaptive_cutoffs=[20, 40]))
    monkeypatch.setattr(course_models, "STEPS", {"tf": 1, "torch": 1})
    monkeypatch.setattr(course_models, "EVAL_EVERY", 1)
    return process_dataset(limit=40)


def test_trains_and_saves_when_missing_then_loads(small):
    model, note = course_models.load_or_train("torch", small)
    assert "训练了 1 步" in note and course_models.checkpoint_path("torch").exists()
    again, note = course_models.load_or_train("torch", small)
    assert "读入" in note
    assert all((a == b).all() for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_retrains_when_the_checkpoint_has_another_vocabulary(small):
    course_models.load_or_train("torch", process_dataset(limit=30))
    _, note = course_models.load_or_train("torch", small)
    assert "训练了" in note


def ship(framework):
    """把 .cache 里的检查点连同记录放进（临时的）models/，就像提交一个检查点那样。"""
    own, shipped = course_models.checkpoint_path(framework), course_models.shipped_path(framework)
    shipped.parent.mkdir(parents=True)
    for path in (own, course_models.provenance_path(own)):
        shipped.with_name(path.name).write_bytes(path.read_bytes())
    own.unlink()
    return shipped


def test_uses_the_shipped_checkpoint_when_you_have_none(small):
    model, _ = course_models.load_or_train("torch", small)
    history = dict(seconds=60.0, tokens=6000)
    facts = course_models.record_provenance("torch", course_models.checkpoint_path("torch"), history,
                                             valid_perplexity=9.0, test_perplexity=10.0)
    assert facts["training_minutes"] == 1.0 and facts["test_perplexity"] == 10.0 and len(facts["sha256"]) == 64
    ship("torch")
    again, note = course_models.load_or_train("torch", small)
    assert note.startswith("读入仓库里的第 7 章检查点") and "困惑度 10.0" in note
    assert all((a == b).all() for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_a_shipped_checkpoint_that_fails_its_sha256_is_not_used(small, capsys):
    course_models.load_or_train("torch", small)
    course_models.record_provenance("torch", course_models.checkpoint_path("torch"),
                                    dict(seconds=60.0, tokens=6000), 9.0, 10.0)
    shipped = ship("torch")
    shipped.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")  # 只拿到了 LFS 指针
    _, note = course_models.load_or_train("torch", small)
    assert "训练了 1 步" in note
    out = capsys.readouterr().out
    assert "sha256 不同" in out and "1 分钟左右" in out
