"""utils/apple_data.py：模板数据平衡、测试模板不在训练集、分词后恰好一个苹果。"""
import pytest

from utils.apple_data import (TAGS, count_by, encode_examples, make_apple_data, tag_apples,
                              templates, tokenize)
from utils.data import Vocab


@pytest.fixture(scope="module")
def data():
    return make_apple_data(n_per_template=10, seed=0)


def test_tokenize_english_and_chinese():
    assert tokenize("The Apple is a great company!") == ["the", "apple", "is", "a", "great", "company", "!"]
    assert tokenize("我喜欢吃苹果！") == ["我", "喜欢", "吃", "苹果", "！"]


def test_tag_apples():
    assert tag_apples(["i", "ate", "an", "apple"], "FRUIT") == ["O", "O", "O", "FRUIT"]
    assert tag_apples(["苹果", "发布", "了"], "COMPANY") == ["COMPANY", "O", "O"]


def test_balanced_labels_and_groups(data):
    train, test = data
    for split in (train, test):
        groups = count_by(split, "lang", "label", "side")
        assert len(groups) == 8 and len(set(groups.values())) == 1, groups


def test_test_templates_unseen(data):
    train, test = data
    train_templates = {e.template for e in train}
    test_templates = {e.template for e in test}
    assert train_templates.isdisjoint(test_templates)
    assert len(train_templates) + len(test_templates) == len(templates())
    # 测试模板是新搭配：其中的句式和线索各自都在训练模板里出现过
    parts = lambda names, i: {n.rsplit("-", 2)[0] + n.rsplit("-", 2)[i] for n in names}  # noqa: E731
    assert parts(test_templates, 1) <= parts(train_templates, 1)  # 句式
    assert parts(test_templates, 2) <= parts(train_templates, 2)  # 线索


def test_test_words_seen_in_training(data):
    train, test = data
    vocab = Vocab.build(e.tokens for e in train)
    assert not {t for e in test for t in e.tokens if t not in vocab}


def test_exactly_one_apple_tagged(data):
    for e in data[0] + data[1]:
        assert e.tags.count(e.label) == 1 and e.tags.count("O") == len(e.tags) - 1
        assert e.tokens[e.apple_index] in ("apple", "苹果")


def test_right_cue_prefix_shared_by_both_labels(data):
    """线索在右边的句子里，apple 左边的词两类都出现，单看左边猜不出标签。"""
    train, _ = data
    lefts = {label: {e.tokens[:e.apple_index] for e in train if e.side == "right" and e.label == label}
             for label in ("FRUIT", "COMPANY")}
    assert len(lefts["FRUIT"] & lefts["COMPANY"]) >= 10


def test_deterministic(data):
    again = make_apple_data(n_per_template=10, seed=0)
    assert again == data
    assert make_apple_data(n_per_template=10, seed=1)[0] != data[0]


def test_encode_examples(data):
    train, _ = data
    vocab = Vocab.build(e.tokens for e in train)
    ids, tags, lengths, apple = encode_examples(train[:5], vocab)
    for row, e in enumerate(train[:5]):
        assert lengths[row] == len(e.tokens)
        assert vocab.id2word[ids[row, apple[row]]] == e.tokens[apple[row]]
        assert TAGS[tags[row, apple[row]]] == e.label
        assert (ids[row, lengths[row]:] == 0).all()


def test_bad_size():
    with pytest.raises(ValueError, match="至少"):
        make_apple_data(n_per_template=0)
