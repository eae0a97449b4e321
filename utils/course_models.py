"""第 06、07 章训练的主模型：设置、检查点的位置，以及“有检查点就读、没有就按同样的设置训练”。

第 08、09 章评价这两个模型；make poem 默认也用这个模型结构。第 06、07 章在笔记本里写出同样的设置
（给学生看），tests/test_course_models.py 核对两边一致。
"""
from __future__ import annotations

import importlib

from utils.settings import CACHE_DIR, seed_everything

# 2 层 LSTM，嵌入 128 维、隐状态 256 维，输出层是自适应 softmax（常用的 1000 字一段，其次 2000 字、其余各一簇）
MODEL = dict(cell="lstm", embed_dim=128, hidden_dim=256, num_layers=2, adaptive_cutoffs=[1000, 3000])
TRAIN = dict(batch_size=64, learning_rate=3e-3, max_len=200)
EVAL_EVERY = 300
# 完整的训练步数（两章相同；每步 64 首诗，约为全部训练集的 3.4 遍）
STEPS = {"tf": 2100, "torch": 2100}
CHECKPOINTS = {"tf": "tf06_lstm.weights.h5", "torch": "torch07_lstm.pt"}
CHAPTER = {"tf": "第 06 章", "torch": "第 07 章"}
LIBRARIES = {"tf": "utils.tf_poems", "torch": "utils.torch_poems"}


def checkpoint_path(framework: str):
    return CACHE_DIR / CHECKPOINTS[framework]


def load_or_train(framework: str, data):
    """读入某一章的主模型（framework 是 'tf' 或 'torch'）；检查点不在或词表不同时，按那一章的设置重新训练并保存。

    data 是 process_dataset() 的结果（全部语料）。返回 (model, 说明这个模型从哪来的一句话)。
    """
    lib = importlib.import_module(LIBRARIES[framework])
    path = checkpoint_path(framework)
    if path.exists():
        model, vocab = lib.load_checkpoint(path)
        if vocab.id2word == data.vocab.id2word:
            return model, f"读入{CHAPTER[framework]}的检查点 {path.name}"
    seed_everything(0)
    model = lib.build_model(len(data.vocab), **MODEL)
    lib.train(model, data.train, data.valid, max_steps=STEPS[framework], eval_every=EVAL_EVERY, **TRAIN)
    lib.save_checkpoint(model, data.vocab, path)
    return model, f"没有{CHAPTER[framework]}的检查点：按那一章的设置训练了 {STEPS[framework]} 步，存为 {path.name}"
