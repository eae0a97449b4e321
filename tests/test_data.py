"""utils/data.py：读取、坏输入、词表、划分、批次。"""
import warnings

import numpy as np
import pytest

from utils.data import (EOS, FORMS, CorpusError, Poem, Vocab, extra_training_poems, filter_forms, iterate_batches,
                        length_sorted_chunks, load_poems, pad_sequences, poem_form, process_dataset, split_poems)

JUEJU5 = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
JUEJU7 = "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
LVSHI5 = "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。"


def write(tmp_path, text, name="poems.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


# ---------------------------------------------------------------- 坏输入

def test_missing_file_names_path_and_make_data(tmp_path):
    missing = tmp_path / "nowhere" / "poems.txt"
    with pytest.raises(FileNotFoundError) as err:
        load_poems(missing)
    assert str(missing) in str(err.value) and "make data" in str(err.value)


def test_malformed_lines_are_skipped_counted_and_named(tmp_path):
    lines = [f"静夜思:{JUEJU5}", "没有冒号的一行", "空内容:", f"坏字符:{JUEJU5}abc",
             f"早发白帝城:{JUEJU7}", "", "x:hello"]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.warns(UserWarning) as record:
        poems = load_poems(path)
    assert poems == [Poem("静夜思", JUEJU5), Poem("早发白帝城", JUEJU7)]
    message = str(record[0].message)
    assert "5 行" in message and "2、3、4、6、7" in message


def test_warning_names_only_first_few_lines(tmp_path):
    path = write(tmp_path, "\n".join(["bad"] * 9 + [f"t:{JUEJU5}"]))
    with pytest.warns(UserWarning, match=r"跳过 9 行.*第 1、2、3、4、5…… 行"):
        assert len(load_poems(path)) == 1


def test_clean_file_gives_no_warning(tmp_path):
    path = write(tmp_path, f"a:{JUEJU5}\nb:{JUEJU7}")  # 末行没有换行也可以
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_poems(path)) == 2


def test_title_may_contain_fullwidth_colon_content_split_at_first_colon(tmp_path):
    path = write(tmp_path, f"和张丞相：春朝:{JUEJU5}\n")
    assert load_poems(path) == [Poem("和张丞相：春朝", JUEJU5)]


def test_non_utf8_file_names_the_line(tmp_path):
    data = f"a:{JUEJU5}\n".encode("utf-8") + f"b:{JUEJU7}\n".encode("gbk")
    path = write(tmp_path, data)
    with pytest.raises(CorpusError, match="第 2 行不是 UTF-8"):
        load_poems(path)


def test_filter_that_leaves_nothing_raises(tmp_path):
    poems = [Poem("a", JUEJU5)]
    with pytest.raises(ValueError, match="一首诗也没有剩下"):
        filter_forms(poems, "七言律诗")
    with pytest.raises(ValueError, match="未知体裁"):
        filter_forms(poems, "宋词")


# ---------------------------------------------------------------- 体裁

def test_poem_forms():
    assert poem_form(JUEJU5) == "五言绝句"
    assert poem_form(JUEJU7) == "七言绝句"
    assert poem_form(LVSHI5) == "五言律诗"
    assert poem_form(JUEJU5[:12]) == "五言其他"          # 两句
    assert poem_form("床前明月光，疑是地上霜") is None    # 缺句号
    assert poem_form("床前明月光，疑是地上霜。千里江陵一日还，轻舟已过万重山。") is None  # 五七混杂
    assert filter_forms([Poem("a", JUEJU5), Poem("b", JUEJU7)], ["五绝"]) == [Poem("a", JUEJU5)]
    assert set(FORMS) >= {"五言绝句", "七言绝句", "五言律诗", "七言律诗"}


# ---------------------------------------------------------------- 词表

def test_vocab_specials_order_min_count_and_round_trip():
    vocab = Vocab.build(["明月明月光", "月"], min_count=2)
    assert vocab.id2word[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    assert vocab.id2word[4:] == ["月", "明"]                     # 多的在前；“光”只出现一次
    ids = vocab.encode("明月光")
    assert ids == [vocab.bos_id, 5, 4, vocab.unk_id, vocab.eos_id]
    assert vocab.decode(ids + [7, 7]) == "明月<unk>"              # eos 之后不再解码
    assert vocab.missing("明光风月光") == ["光", "风"]
    assert EOS not in vocab and "月" in vocab


# ---------------------------------------------------------------- 划分

def test_split_is_deterministic_order_free_and_disjoint():
    poems = [Poem(str(i), f"第{i}首") for i in range(5000)]
    train, valid, test = split_poems(poems)
    again = split_poems(poems[::-1])
    assert [sorted(p) for p in again] == [sorted(p) for p in (train, valid, test)]
    assert len(train) + len(valid) + len(test) == 5000
    assert 0.04 < len(valid) / 5000 < 0.06 and 0.04 < len(test) / 5000 < 0.06
    assert not {p.content for p in train} & {p.content for p in test}


# ---------------------------------------------------------------- 补齐与批次

def test_pad_sequences_pads_and_truncates():
    ids, lengths = pad_sequences([[5, 6, 7], [8]], max_len=2, pad_id=0)
    np.testing.assert_array_equal(ids, [[5, 6], [8, 0]])
    np.testing.assert_array_equal(lengths, [2, 1])
    ids, lengths = pad_sequences([[5, 6, 7], [8]])
    assert ids.shape == (2, 3) and list(lengths) == [3, 1]


def test_batches_cover_everything_once_and_pad_little():
    rng = np.random.default_rng(0)
    seqs = [list(range(1, n + 1)) for n in rng.choice([26, 34, 50, 66], size=1000)]
    seen, padded = [], 0
    for ids, lengths in iterate_batches(seqs, batch_size=32, seed=1):
        assert ids.shape[1] == lengths.max()                       # 只补到本批最长
        for row, n in zip(ids, lengths):
            assert row[n:].sum() == 0 and list(row[:n]) == list(range(1, n + 1))
        seen.extend(lengths)
        padded += ids.size - lengths.sum()
    assert sorted(seen) == sorted(len(s) for s in seqs)
    # 长度只有 4 种：按长度分组后，最多只有跨组的那几批需要补齐
    assert padded / sum(seen) < 0.05


def test_batch_order_depends_on_seed_only():
    seqs = [[1] * n for n in range(1, 200)]
    first = [ids.shape for ids, _ in iterate_batches(seqs, 16, seed=3)]
    assert first == [ids.shape for ids, _ in iterate_batches(seqs, 16, seed=3)]
    assert first != [ids.shape for ids, _ in iterate_batches(seqs, 16, seed=4)]


# ---------------------------------------------------------------- 一步到位

def test_process_dataset_on_small_file(tmp_path):
    lines = [f"t{i}:{JUEJU5 if i % 2 else JUEJU7}" for i in range(2)] + [f"l:{LVSHI5}"]
    path = write(tmp_path, "\n".join(lines))
    data = process_dataset(path, max_len=10, forms=["五绝", "七绝"])
    everything = data.train + data.valid + data.test
    assert len(everything) == 2 and all(len(s) == 10 for s in everything)
    assert all(s[0] == data.vocab.bos_id for s in everything)
    assert data.word2id["<pad>"] == 0 and data.id2word[3] == "<eos>"


def test_process_dataset_on_the_corpus_keeps_eos_and_builds_vocab_from_train():
    data = process_dataset(limit=300)
    assert all(s[0] == 2 and s[-1] == 3 for s in data.train)
    train_chars = {ch for s in data.train for ch in data.vocab.decode(s)}
    assert train_chars == set(data.vocab.id2word[4:])


def test_stream_windows_continue_each_row_where_the_last_batch_stopped():
    from utils.data import stream_windows

    seqs = [[2, *range(10 * i + 10, 10 * i + 10 + n), 3] for i, n in enumerate([5, 7, 3, 9, 4, 6, 8, 2])]
    windows = list(stream_windows(seqs, batch_size=3, seq_len=4, seed=1))
    assert windows and all(w.shape == (3, 5) for w in windows)
    for a, b in zip(windows, windows[1:]):
        np.testing.assert_array_equal(a[:, -1], b[:, 0])  # 逐行首尾相接
    # 每行拼回去就是打乱后的长流被平分成的 3 段（只丢掉末尾不够一批的部分）
    rows = np.concatenate([windows[0][:, :1], *(w[:, 1:] for w in windows)], axis=1)
    order = np.random.default_rng(1).permutation(len(seqs))
    stream = np.concatenate([seqs[i] for i in order])
    per_row = len(stream) // 3
    np.testing.assert_array_equal(rows, stream[:per_row * 3].reshape(3, per_row)[:, :rows.shape[1]])
    assert per_row - rows.shape[1] < 4


def test_length_sorted_chunks_cover_every_index_once_shortest_first():
    seqs = [[0] * n for n in (5, 2, 9, 2, 7)]
    chunks = length_sorted_chunks(seqs, 2)
    assert [c.tolist() for c in chunks] == [[1, 3], [0, 4], [2]]


def test_extra_poems_keep_the_vocabulary_and_never_repeat_a_held_out_line(tmp_path):
    """宋诗加进训练集：有字不在词表里的、与留出的唐诗有同一句的都不收。"""
    vocab = Vocab.build([JUEJU5, LVSHI5])
    song = [f"a:{JUEJU5}",                                       # 与留出的诗同句
            "b:明月在深山，故乡白头心。春草花溅泪，家书三月深。",      # 字都在词表里、没有同句
            "c:明月在深山，故乡白头心。春草花溅泪，家书三月琴。"]      # “琴”不在词表里
    poems, counts = extra_training_poems(write(tmp_path, "\n".join(song) + "\n"), vocab, held_out=[JUEJU5])
    assert poems == [Poem("b", song[1][2:])]
    assert list(counts.values()) == [3, 2, 1]
