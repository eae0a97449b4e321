"""检查点是否与当前的词表和模型相符：TensorFlow 与 PyTorch 两章共用的检查（不依赖框架）。"""
from __future__ import annotations

from pathlib import Path

from utils.data import Vocab

TORCH_FORMAT = "rnn_tang_poems/torch-1"  # PyTorch 检查点里的格式标记（torch_poems 存，numpy_writer 也读）
# 两个框架的检查点文件名的结尾（Keras 3 只肯把权重存进以 .weights.h5 结尾的文件）
SUFFIXES = {"tf": ".weights.h5", "torch": ".pt"}
# 检查点的模型设置里有它（值为 True）时，模型是每步读题的 utils.title_every_step.TitleEveryStep
EVERY_STEP = "title_every_step"


class CheckpointError(ValueError):
    """检查点读不了，或与当前模型 / 词表不匹配。"""


def require_file(path: Path) -> None:
    if not path.is_file():
        raise CheckpointError(f"找不到检查点 {path.name} (checkpoint not found)")


def checked_torch_checkpoint(saved, path: Path) -> dict:
    """读出的对象须是 torch_poems.save_checkpoint 存的字典，否则报一条统一的说明。"""
    if not isinstance(saved, dict) or saved.get("format") != TORCH_FORMAT:
        raise CheckpointError(f"{path.name} 不是本课程保存的 PyTorch 检查点"
                              f" (not a checkpoint saved by torch_poems.save_checkpoint)")
    return saved


def check_vocab_size(vocab: Vocab, config: dict) -> None:
    """词表大小必须等于模型输出层的大小。"""
    if len(vocab) != config["vocab_size"]:
        raise CheckpointError(f"词表有 {len(vocab)} 个字，模型却是按 {config['vocab_size']} "
                              f"个字建的 (vocabulary and model do not match)")


def check_compatible(saved_id2word: list[str], saved_config: dict, vocab: Vocab,
                     config: dict) -> None:
    """检查点的词表和模型设置必须与当前的完全相同，否则权重会错位。"""
    if saved_id2word != vocab.id2word:
        diff = next((i for i, (a, b) in enumerate(zip(saved_id2word, vocab.id2word)) if a != b),
                    min(len(saved_id2word), len(vocab)))
        raise CheckpointError(
            f"检查点的词表（{len(saved_id2word)} 个字）与当前词表（{len(vocab)} 个字）不同，"
            f"从第 {diff} 个编号起不一致；请用同一份数据和词表，或用 load_checkpoint 连词表一起读入"
            f" (checkpoint vocabulary differs from the current one)")
    if saved_config != config:
        changed = {k: (saved_config.get(k), v) for k, v in config.items()
                   if saved_config.get(k) != v}
        raise CheckpointError(f"检查点的模型设置与当前模型不同（检查点, 当前）：{changed}"
                              f" (checkpoint was saved from a model with other settings)")
