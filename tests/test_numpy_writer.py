"""utils.numpy_writer：不用 PyTorch 读检查点并逐字算 logits，结果须与 PyTorch 算的一致。"""
import pickle
import zipfile

import numpy as np
import pytest
import torch

from utils import numpy_writer
from utils.checkpoints import CheckpointError
from utils.data import Vocab
from utils.torch_poems import build_model, make_step_fn, save_checkpoint

VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *"春风花月夜山水云江天白日秋霜乡光长香阳"])
OUTPUTS = {"dense": {}, "tied": {"tie_embeddings": True}, "adaptive": {"adaptive_cutoffs": [8, 16]}}


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("num_layers", [1, 2])
def test_logits_match_pytorch(tmp_path, cell, output, num_layers):
    torch.manual_seed(0)
    model = build_model(len(VOCAB), device=torch.device("cpu"), cell=cell, embed_dim=16, hidden_dim=12,
                        num_layers=num_layers, dropout=0.3, **OUTPUTS[output]).eval()
    with torch.no_grad():  # 偏置初始为 0：随便给些值，免得偏置的换算错了也看不出来
        for name, p in model.named_parameters():
            if "bias" in name:
                p.normal_()
    path = save_checkpoint(model, VOCAB, tmp_path / "m.pt")
    config, vocab, step = numpy_writer.load(path)
    assert config == model.config and vocab.id2word == VOCAB.id2word
    reference = make_step_fn(model)
    state = ref_state = None
    for token in [2, 7, 12, 4, 20, 5, 9]:
        logits, state = step(token, state)
        expected, ref_state = reference(token, ref_state)
        assert logits.shape == expected.shape == (len(VOCAB),)
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)


class Evil:
    def __reduce__(self):
        return (print, ("这行不该被执行",))


@pytest.mark.parametrize("content", ["text", "foreign", "code"])
def test_bad_files_are_refused_without_running_them(tmp_path, capsys, content):
    path = tmp_path / "bad.pt"
    if content == "text":
        path.write_bytes(b"not a checkpoint")
    elif content == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)  # 能读，但不是本课程的检查点
    else:  # 结构像 torch.save 的 zip，data.pkl 里却要调用一个函数
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("bad/data.pkl", pickle.dumps(Evil()))
    with pytest.raises(CheckpointError, match="不是本课程保存的 PyTorch 检查点"):
        numpy_writer.load(path)
    assert "不该" not in capsys.readouterr().out
    with pytest.raises(CheckpointError, match="找不到检查点"):
        numpy_writer.load(tmp_path / "missing.pt")


def test_the_model_that_reads_the_title_at_every_step_matches_pytorch(tmp_path):
    """utils.title_every_step：题目、空标题、不给条件三种开头，NumPy 与 PyTorch 逐字的 logits 相同。"""
    from utils.conditions import condition_ids, condition_vocab, no_condition
    from utils.title_every_step import TitleEveryStep

    vocab = condition_vocab(VOCAB)
    torch.manual_seed(0)
    model = build_model(len(vocab), device=torch.device("cpu"), cell="lstm", embed_dim=16, hidden_dim=12,
                        num_layers=1, adaptive_cutoffs=[8, 16])
    net = TitleEveryStep(model, vocab).eval()
    with torch.no_grad():
        torch.nn.init.normal_(net.to_input.weight)
        torch.nn.init.normal_(net.to_output.weight)
    path = save_checkpoint(net, vocab, tmp_path / "m.pt")
    _, _, step = numpy_writer.load(path)
    reference = make_step_fn(net)
    for condition in (condition_ids(vocab, "春江"), no_condition(vocab), []):
        state = ref_state = None
        for token in [2, *condition, 7, 12, 4, 20, 5]:
            logits, state = step(token, state)
            expected, ref_state = reference(token, ref_state)
            np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)
