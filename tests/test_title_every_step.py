"""utils/title_every_step.py：初始为 0 时与原模型逐位相同；没有题目时无论两层学成什么都与原模型相同；
逐字喂与整首喂结果相同；存、读检查点之后还是它；train_ddp --every-step 只动新加的两层，加 --train-all 时模型也动。"""
import pytest
import torch

from scripts import train_ddp
from tests.test_ddp import final_state, finish, torchrun
from utils import torch_poems
from utils.conditions import condition_ids, condition_vocab, encode, no_condition
from utils.data import Vocab
from utils.title_every_step import TitleEveryStep

JINGYESI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
VOCAB = condition_vocab(Vocab.build([JINGYESI + "静夜思故乡"]))


def small_pair(seed=0):
    torch.manual_seed(seed)
    model = torch_poems.build_model(len(VOCAB), device=torch.device("cpu"), cell="lstm", embed_dim=8,
                                    hidden_dim=16, num_layers=1, adaptive_cutoffs=[8])
    model.eval()
    return model, TitleEveryStep(model, VOCAB).eval()


def ids(seq):
    return torch.tensor([seq])


def with_condition(condition):
    plain = encode(VOCAB, JINGYESI)
    return plain[:1] + condition + plain[1:]


SEQS = {"no condition": encode(VOCAB, JINGYESI), "empty title": with_condition(no_condition(VOCAB)),
        "title": with_condition(condition_ids(VOCAB, "静夜思")),
        "keywords": with_condition(condition_ids(VOCAB, keywords=["明月", "故乡"]))}


@torch.no_grad()
def test_zero_layers_give_the_plain_model_bit_for_bit():
    model, net = small_pair()
    for seq in SEQS.values():
        assert torch.equal(model(ids(seq))[0], net(ids(seq))[0])


@torch.no_grad()
def test_without_a_title_the_layers_change_nothing_and_with_one_they_do():
    model, net = small_pair()
    torch.nn.init.normal_(net.to_input.weight)
    torch.nn.init.normal_(net.to_output.weight)
    for name, seq in SEQS.items():
        same = torch.equal(model(ids(seq))[0], net(ids(seq))[0])
        assert same == (name in ("no condition", "empty title")), name
    # 条件只从分隔符起起作用：题目的字本身（前缀）的概率不变
    title = SEQS["title"]
    separator = title.index(VOCAB.word2id["<title>"])
    assert torch.equal(model(ids(title))[0][:, :separator], net(ids(title))[0][:, :separator])


@torch.no_grad()
def test_one_character_at_a_time_matches_the_whole_poem():
    _, net = small_pair()
    torch.nn.init.normal_(net.to_input.weight)
    torch.nn.init.normal_(net.to_output.weight)
    for seq in SEQS.values():
        whole = net(ids(seq))[0][0]
        state, steps = None, []
        for token in seq:
            logits, state = net(ids([token]), state)
            steps.append(logits[0, -1])
        torch.testing.assert_close(torch.stack(steps), whole, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_the_checkpoint_round_trip_gives_the_same_model(tmp_path):
    _, net = small_pair()
    torch.nn.init.normal_(net.to_output.weight)
    path = torch_poems.save_checkpoint(net, VOCAB, tmp_path / "poem.pt")
    loaded, vocab = torch_poems.load_checkpoint(path, device=torch.device("cpu"))
    assert isinstance(loaded, TitleEveryStep) and vocab.id2word == VOCAB.id2word
    loaded.eval()
    assert torch.equal(loaded(ids(SEQS["title"]))[0], net(ids(SEQS["title"]))[0])


def test_every_step_trains_only_the_two_new_layers(tmp_path):
    small = ["--model", '{"hidden_dim": 24, "num_layers": 1, "adaptive_cutoffs": [1000, 3000]}', "--conditions"]
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    finish(torchrun(base, 1, 2, *small))
    finish(torchrun(tuned, 1, 3, *small, "--every-step", "--init", str(base / "poem.pt"), "--learning-rate", "0.01"))
    start, after = final_state(base)["model"], final_state(tuned)["model"]
    assert {k for k in after if not k.startswith("model.")} == {"to_input.weight", "to_output.weight"}
    for name, weight in start.items():
        assert torch.equal(weight, after["model." + name]), name
    assert after["to_input.weight"].abs().sum() > 0 and after["to_output.weight"].abs().sum() > 0
    loaded, _ = torch_poems.load_checkpoint(tuned / "poem.pt", device=torch.device("cpu"))
    assert isinstance(loaded, TitleEveryStep)
    with pytest.raises(SystemExit, match="--every-step"):  # 启动进程组之前就拒绝
        train_ddp.main([*small[:2], "--every-step", "--init", str(base / "poem.pt")])


def test_train_all_trains_the_model_too(tmp_path):
    small = ["--model", '{"hidden_dim": 24, "num_layers": 1, "adaptive_cutoffs": [1000, 3000]}', "--conditions"]
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    finish(torchrun(base, 1, 2, *small))
    finish(torchrun(tuned, 1, 3, *small, "--every-step", "--train-all", "--init", str(base / "poem.pt"),
                    "--learning-rate", "0.01"))
    start, after = final_state(base)["model"], final_state(tuned)["model"]
    changed = {name for name, weight in start.items() if not torch.equal(weight, after["model." + name])}
    assert "embed_layer.weight" in changed and "rnn_layer.weight_hh_l0" in changed
    assert after["to_input.weight"].abs().sum() > 0 and after["to_output.weight"].abs().sum() > 0
    with pytest.raises(SystemExit, match="--train-all"):  # 启动进程组之前就拒绝
        train_ddp.main([*small, "--train-all"])
