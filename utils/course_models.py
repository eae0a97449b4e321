"""第 6、7 章训练的主模型：设置、检查点的位置，以及“有检查点就读、没有就按同样的设置训练”。

检查点先找你自己训练的（.cache/，第 6、7 章完整运行时存下），再找仓库里提交的（models/，附带它怎么训练出来的
记录，见 models/README.md）；都没有时才现场训练。

第 8、9 章评价这两个模型；make poem 默认也用这个模型结构。第 6、7 章在笔记本里写出同样的设置
（给学生看），tests/test_course_models.py 核对两边一致。
"""
from __future__ import annotations

import json

from utils import provenance
from utils.frameworks import library
from utils.settings import CACHE_DIR, POEMS_PATH, REPO_ROOT, seed_everything

# 2 层 LSTM，嵌入 128 维、隐状态 256 维，输出层是自适应 softmax（常用的 1000 字一段，其次 2000 字、其余各一簇）
MODEL = dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2, adaptive_cutoffs=[1000, 3000])
TRAIN = dict(batch_size=64, learning_rate=3e-3, max_len=200)
EVAL_EVERY = 300
# 完整的训练步数（两章相同；每步 64 首诗，约为全部训练集的 3.4 遍）
STEPS = {"tf": 2100, "torch": 2100}
CHECKPOINTS = {"tf": "tf06_lstm.weights.h5", "torch": "torch07_lstm.pt"}
CHAPTER = {"tf": "第 6 章", "torch": "第 7 章"}
NOTEBOOKS = {"tf": "notebooks/06_tf_poem_generation.ipynb", "torch": "notebooks/07_pytorch_poem_generation.ipynb"}
# 随仓库提交的检查点与它们的来历
SHIPPED_DIR = REPO_ROOT / "models"


def checkpoint_path(framework: str):
    """你自己训练的检查点（第 6、7 章完整运行时存在 .cache/）。"""
    return CACHE_DIR / CHECKPOINTS[framework]


def shipped_path(framework: str):
    """随仓库提交的检查点。"""
    return SHIPPED_DIR / CHECKPOINTS[framework]


def provenance_path(checkpoint):
    """检查点旁边记录它来历的 JSON 文件：tf06_lstm.weights.h5 -> tf06_lstm.json。"""
    return checkpoint.with_name(checkpoint.name.split(".")[0] + ".json")


def read_provenance(checkpoint) -> dict:
    return json.loads(provenance_path(checkpoint).read_text(encoding="utf-8"))


def record_provenance(framework: str, path, history: dict, valid_perplexity: float, test_perplexity: float):
    """第 6、7 章训练完、把检查点存到 path 之后调用：把它怎么来的写在检查点旁边。返回这份记录。"""
    facts = dict(checkpoint=path.name, sha256=provenance.sha256(path),
                 made_by=f"完整模式下从头运行 {NOTEBOOKS[framework]}（make execute 就是这样运行各章的）",
                 code=provenance.code_version(), finished=provenance.utc_now(), machine=provenance.machine(),
                 steps=STEPS[framework], training_minutes=round(history["seconds"] / 60, 1),
                 tokens_per_second=round(history["tokens"] / history["seconds"]),
                 data=POEMS_PATH.relative_to(REPO_ROOT).as_posix(), data_sha256=provenance.sha256(POEMS_PATH),
                 valid_perplexity=round(valid_perplexity, 2), test_perplexity=round(test_perplexity, 2))
    provenance_path(path).write_text(json.dumps(facts, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return facts


def poet_checkpoint():
    """随仓库提交的大模型 models/poet.pt（第 12 章训练、scripts/ship_poet.py 放进来的，make poem 默认用它）：
    文件在、且与它的记录 poet.json 的 sha256 相符时返回路径，否则 None。"""
    path = SHIPPED_DIR / "poet.pt"
    if path.exists() and provenance_path(path).exists() and provenance.sha256(path) == read_provenance(path)["sha256"]:
        return path
    return None


def checkpoints(framework: str):
    """可用的检查点，按先后：你自己训练的（.cache/），仓库里提交的（models/，文件与记录的 sha256 相符才算）。

    逐个给出 (路径, 说明它从哪来的一句话)。
    """
    own, shipped = checkpoint_path(framework), shipped_path(framework)
    if own.exists():
        yield own, f"你自己训练的{CHAPTER[framework]}检查点 .cache/{own.name}"
    if shipped.exists():
        facts = read_provenance(shipped)
        if provenance.sha256(shipped) == facts["sha256"]:
            yield shipped, (f"仓库里的{CHAPTER[framework]}检查点 models/{shipped.name}"
                            f"（{facts['finished']} 训练，测试集困惑度 {facts['test_perplexity']:.1f}）")
        else:
            print(f"models/{shipped.name} 与它的记录对不上（sha256 不同：文件坏了，或只是 Git LFS 的指针），不用它"
                  f" (shipped checkpoint fails its sha256 check)", flush=True)


def load_or_train(framework: str, data):
    """读入某一章的主模型（framework 是 'tf' 或 'torch'）：先找你自己训练的检查点，再找仓库里提交的；
    都没有（或词表不同）时按那一章的设置重新训练并存进 .cache/。

    data 是 process_dataset() 的结果（全部语料）。返回 (model, 说明这个模型从哪来的一句话)。
    """
    lib = library(framework)
    for path, what in checkpoints(framework):
        model, vocab = lib.load_checkpoint(path)
        if vocab.id2word == data.vocab.id2word:
            return model, "读入" + what
    shipped = shipped_path(framework)
    minutes = read_provenance(shipped)["training_minutes"] if provenance_path(shipped).exists() else None
    print(f"没有可用的{CHAPTER[framework]}检查点：现在按那一章的设置训练 {STEPS[framework]} 步"
          + (f"，作者的测试机（2 核 CPU）上要 {minutes:.0f} 分钟左右" if minutes else "")
          + " (no checkpoint: training now)", flush=True)
    seed_everything(0)
    model = lib.build_model(len(data.vocab), **MODEL)
    lib.train(model, data.train, data.valid, max_steps=STEPS[framework], eval_every=EVAL_EVERY, **TRAIN)
    path = checkpoint_path(framework)
    lib.save_checkpoint(model, data.vocab, path)
    return model, f"没有{CHAPTER[framework]}的检查点：按那一章的设置训练了 {STEPS[framework]} 步，存为 .cache/{path.name}"
