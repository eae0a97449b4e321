"""utils/title_state.py：条件从按前缀编码的一批里拆得对；没有条件时与普通模型一字不差；有条件时条件真的改变了正文的概率。"""
import numpy as np
import torch

from utils import title_state, torch_poems
from utils.conditions import KEYWORDS, TITLE, condition_vocab, content_perplexities, encode
from utils.data import Poem, Vocab, pad_sequences
from utils.title_state import TitleState, split_condition, token_nlls

JINGYESI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
VOCAB = condition_vocab(Vocab.build([JINGYESI + "静夜思故乡明月"]))
SEPARATORS = torch.tensor([VOCAB.word2id[TITLE], VOCAB.word2id[KEYWORDS]])


def batch(seqs):
    ids, lengths = pad_sequences(seqs)
    return torch.from_numpy(ids).long(), torch.from_numpy(lengths).long()


def test_split_condition_takes_the_title_and_its_separator_out_of_each_row():
    seqs = [encode(VOCAB, JINGYESI, title="静夜思"), encode(VOCAB, JINGYESI), encode(VOCAB, "明月光。", keywords=["故乡"])]
    cond, cond_len, content, content_len = split_condition(*batch(seqs), SEPARATORS)
    assert cond_len.tolist() == [4, 0, 3]
    assert VOCAB.decode(cond[0, :3].tolist()) == "静夜思" and VOCAB.id2word[int(cond[0, 3])] == TITLE
    assert cond[1].tolist() == [0] * 4 and VOCAB.id2word[int(cond[2, 2])] == KEYWORDS and int(cond[2, 3]) == 0
    plain = [encode(VOCAB, JINGYESI), encode(VOCAB, JINGYESI), encode(VOCAB, "明月光。")]
    assert content_len.tolist() == [len(s) for s in plain]
    for row, seq in enumerate(plain):
        assert content[row, :len(seq)].tolist() == seq and not content[row, len(seq):].any()


def small_net(seed=0):
    torch.manual_seed(seed)
    model = torch_poems.build_model(len(VOCAB), device=torch.device("cpu"), cell="lstm", embed_dim=8, hidden_dim=16,
                                    num_layers=2)
    return TitleState(model, SEPARATORS.tolist())


def test_without_a_condition_it_is_the_plain_model():
    net = small_net()
    seqs = [encode(VOCAB, JINGYESI), encode(VOCAB, "明月光。")]
    mine, plain = token_nlls(net, seqs), torch_poems.token_nlls(net.model, seqs)
    for a, b in zip(mine, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_condition_changes_the_poem_and_is_learned():
    net = small_net()
    with torch.no_grad():
        net.to_state.weight.normal_()
    seqs = [encode(VOCAB, JINGYESI, title=t) for t in ("静夜思", "明月", None)]
    nlls = token_nlls(net, seqs)
    assert [len(x) for x in nlls] == [len(encode(VOCAB, JINGYESI)) - 1] * 3   # 只算正文（含 <eos>）
    assert not np.allclose(nlls[0], nlls[1]) and not np.allclose(nlls[0], nlls[2])
    loss = net(*batch(seqs))
    loss.backward()
    assert net.to_state.weight.grad.abs().sum() > 0
    poems = [Poem("静夜思", JINGYESI), Poem("明月", "明月光。")]
    ppl = content_perplexities(lambda s: token_nlls(net, s), VOCAB, poems)
    assert set(ppl) == {"自己的标题", "不给条件", "随机的标题"} and ppl["自己的标题"] != ppl["不给条件"]


def test_save_and_load_keep_both_parts(tmp_path):
    net = small_net(seed=1)
    with torch.no_grad():
        net.to_state.weight.normal_()
    path = tmp_path / "poem.pt"
    title_state.save(net, VOCAB, path)
    back, vocab = title_state.load(path)
    assert vocab.id2word == VOCAB.id2word and title_state.extra_path(path).exists()
    seqs = [encode(VOCAB, JINGYESI, title="静夜思")]
    np.testing.assert_allclose(token_nlls(back, seqs)[0], token_nlls(net, seqs)[0], rtol=1e-6)
