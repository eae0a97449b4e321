"""utils/poem_cli.py：作为子进程运行，正常写诗、首次运行先训练，各种错误输入给出一行中文说明。"""
import os
import subprocess
import sys

import pytest
import torch

from utils.data import Vocab, poem_form
from utils.metre import ping_groups
from utils.metrics import classical_rhymes, classical_tone_ok, poem_lines
from utils.settings import REPO_ROOT
from utils.torch_poems import build_model, save_checkpoint

CHARS = "春风花月夜山水云江天白日秋"
VOCAB = Vocab(["<pad>", "<unk>", "<bos>", "<eos>", "，", "。", *CHARS])


def poem_cli(*args, cache=None):
    """运行 python -m utils.poem_cli，返回 (退出码, stdout, stderr)。"""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # 小模型单线程更快，也不和别的测试抢核
    if cache is not None:
        env["COURSE_CACHE"] = str(cache)
    done = subprocess.run([sys.executable, "-m", "utils.poem_cli", *map(str, args)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=300)
    return done.returncode, done.stdout, done.stderr


def tiny_checkpoint(vocab, path):
    """一个很小的、未训练的检查点。"""
    torch.manual_seed(0)
    model = build_model(len(vocab), device=torch.device("cpu"), cell="gru", embed_dim=8,
                        hidden_dim=12, num_layers=1)
    return save_checkpoint(model, vocab, path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """词表只有十几个字。"""
    return tiny_checkpoint(VOCAB, tmp_path_factory.mktemp("ckpt") / "tiny.pt")


@pytest.fixture(scope="module")
def rhyming(tmp_path_factory):
    """词表多了六个平水韵“下平七阳”的字，够押一首绝句。"""
    vocab = Vocab(VOCAB.id2word + list("霜乡光长香阳"))
    return tiny_checkpoint(vocab, tmp_path_factory.mktemp("ckpt") / "rhyming.pt")


def test_writes_well_formed_poems_reproducibly(tiny):
    code, out, err = poem_cli("--checkpoint", tiny, "--form", "七绝", "--acrostic", "春江花月",
                              "--count", 3, "--seed", 7, "--temperature", 1.2)
    assert code == 0 and err == ""
    poems = out.strip().split("\n\n")
    assert len(poems) == 3
    for poem in poems:
        lines = poem.splitlines()
        assert poem_form("".join(lines)) == "七言绝句" and len(lines) == 2
        assert [line[0] for line in "".join(lines).replace("。", "，").split("，")[:-1]] == list("春江花月")
    assert poem_cli("--checkpoint", tiny, "--form", "七绝", "--acrostic", "春江花月", "--count", 3,
                    "--seed", 7, "--temperature", 1.2)[1] == out


@pytest.mark.parametrize("args, message", [
    (["--first", "咖啡"], "不在词表"),
    (["--acrostic", ""], "藏头字不能为空"),
    (["--acrostic", "春江花月夜", "--form", "五绝"], "只有 4 句"),
    (["--temperature", "0"], "温度必须是正数"),
    (["--temperature", "-1"], "温度必须是正数"),
    (["--top-k", "-3"], "top_k 必须是正整数"),
    (["--top-p", "1.5"], "top_p 必须在 (0, 1] 之间"),
    (["--top-p", "0"], "top_p 必须在 (0, 1] 之间"),
    (["--typical-p", "1.5"], "typical_p 必须在 (0, 1] 之间"),
    (["--guidance", "0.5"], "guidance 必须 ≥ 1"),
    (["--guidance", "nan"], "guidance 必须 ≥ 1"),
    (["--guided-lines", "0"], "guided_lines 必须是正整数"),
    (["--guided-lines", "两"], "参数有误"),
    (["--cell", "lstm"], "不是 --cell lstm"),
    (["--form", "九绝"], "参数有误"),
])
def test_bad_input_gives_one_clear_line(tiny, args, message):
    code, out, err = poem_cli("--checkpoint", tiny, *args)
    assert code != 0 and out == ""
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("错误：")


def test_nucleus_sampling_without_repeated_bigrams(tiny):
    """--top-k 0 --top-p 0.9 --no-repeat-bigrams：诗照样合体裁，可重复；一首诗里没有重复的二字组。"""
    args = ("--checkpoint", tiny, "--form", "五律", "--count", 4, "--seed", 1, "--top-k", 0, "--top-p", 0.9,
            "--no-repeat-bigrams")
    code, out, err = poem_cli(*args)
    assert code == 0 and err == "" and poem_cli(*args)[1] == out
    for poem in out.strip().split("\n\n"):
        poem = poem.replace("\n", "")
        assert poem_form(poem) == "五言律诗"
        pairs = [line[i:i + 2] for line in poem_lines(poem) for i in range(len(line) - 1)]
        assert len(pairs) == len(set(pairs)), poem


def test_metre_and_rhyme(rhyming):
    code, out, err = poem_cli("--checkpoint", rhyming, "--form", "七绝", "--metre", "--rhyme", "阳",
                              "--count", 2, "--seed", 3)
    assert code == 0 and err == ""
    for poem in out.strip().split("\n\n"):
        poem = poem.replace("\n", "")
        assert poem_form(poem) == "七言绝句" and classical_rhymes(poem) and classical_tone_ok(poem), poem
        assert all("下平七阳" in ping_groups(line[-1]) for line in poem_lines(poem)[1::2]), poem


@pytest.mark.parametrize("args, message", [
    (["--metre", "--form", "五绝", "--rhyme", "十四行"], "未知韵部"),
    (["--metre", "--form", "五绝", "--rhyme", "去声一送"], "近体诗押平声韵"),
    (["--form", "五绝", "--rhyme", "阳"], "要同时打开格律"),
    (["--metre"], "要先定体裁"),
    (["--metre", "--form", "五绝", "--first", "白云天山夜，"], "不合五言绝句的任何一种平仄谱"),
    (["--metre", "--form", "五律", "--rhyme", "东"], "韵部 上平一东的平声字不够押 5 个韵"),
])
def test_bad_metre_input_gives_one_clear_line(rhyming, args, message):
    code, out, err = poem_cli("--checkpoint", rhyming, *args)
    assert code != 0 and out == ""
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("错误：")


@pytest.mark.parametrize("content", [b"not a checkpoint", "foreign"])
def test_unreadable_or_foreign_checkpoint(tmp_path, content):
    path = tmp_path / "bad.pt"
    if content == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)  # 能读，但不是本课程的检查点
    else:
        path.write_bytes(content)
    code, out, err = poem_cli("--checkpoint", path)
    assert code != 0 and out == "" and "Traceback" not in err
    assert err.strip() == ("错误：bad.pt 不是本课程保存的 PyTorch 检查点"
                           " (not a checkpoint saved by torch_poems.save_checkpoint)")


def test_by_default_the_shipped_chapter_model_writes_without_training(tmp_path):
    code, out, err = poem_cli("--form", "五律", "--metre", "--seed", 0, cache=tmp_path)  # 空的 .cache
    assert code == 0 and err == "", err
    assert poem_form(out.replace("\n", "")) == "五言律诗" and not list(tmp_path.iterdir())


def test_writing_from_a_pytorch_checkpoint_does_not_import_torch(tiny):
    """PyTorch 的检查点用 NumPy 来写（utils.numpy_writer）：import torch 比写一首诗还慢。"""
    code = ("import sys; from utils import poem_cli; "
            f"poem_cli.main(['--checkpoint', {str(tiny)!r}, '--form', '五绝', '--seed', '0']); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    *poem, imported = done.stdout.splitlines()
    assert poem_form("".join(poem)) == "五言绝句" and imported == "False"
    from utils.poet import DEFAULTS, write
    from utils.torch_poems import load_checkpoint, prepare_to_write, writing_step

    model, vocab = load_checkpoint(tiny)
    prepare_to_write(model)
    assert "".join(poem) == write(*writing_step(model), vocab, form="五绝", rng=0, **DEFAULTS)  # 与 PyTorch 写的相同


def test_first_run_trains_and_caches_then_reuses(tmp_path):
    # 仓库里只提交了 LSTM 的检查点：要 GRU 就得先训练
    code, out, err = poem_cli("--cell", "gru", "--steps", 1, "--form", "五绝", "--seed", 0, cache=tmp_path)
    assert code == 0, err
    assert "还没有检查点" in err and (tmp_path / "poem_torch_gru.pt").exists()
    assert poem_form(out.replace("\n", "")) == "五言绝句"
    code, again, err = poem_cli("--cell", "gru", "--form", "五绝", "--seed", 0, cache=tmp_path)
    assert code == 0 and err == "" and again == out  # 第二次直接读检查点，不再训练


def test_tensorflow_framework(tmp_path, tiny):
    from utils import tf_poems

    model = tf_poems.build_model(len(VOCAB), cell="lstm", embed_dim=8, hidden_dim=12, num_layers=1)
    path = tf_poems.save_checkpoint(model, VOCAB, tmp_path / "tiny.weights.h5")
    code, out, err = poem_cli("--framework", "tf", "--checkpoint", path, "--form", "五律", "--seed", 1)
    assert code == 0 and err == "" and poem_form(out.replace("\n", "")) == "五言律诗"
    code, out, err = poem_cli("--framework", "tf", "--checkpoint", tiny)  # PyTorch 的检查点
    assert code != 0 and out == "" and "不是本课程保存的 TensorFlow 检查点" in err


@pytest.fixture(scope="module")
def titled(tmp_path_factory):
    """学过按题作诗的词表（多了 <title>、<keywords> 两个分隔符）。"""
    from utils.conditions import condition_vocab

    return tiny_checkpoint(condition_vocab(VOCAB), tmp_path_factory.mktemp("ckpt") / "titled.pt")


def test_title_and_keywords_write_in_the_chosen_form(titled):
    for option in (["--title", "春江"], ["--keywords", "春风,山水"], ["--title", "春江", "--plan"]):
        code, out, err = poem_cli("--checkpoint", titled, "--form", "五绝", "--seed", 3, *option)
        assert code == 0 and err == "", err
        assert poem_form(out.replace("\n", "")) == "五言绝句"
    same = poem_cli("--checkpoint", titled, "--form", "五绝", "--seed", 3, "--title", "春江")[1]
    assert same == poem_cli("--checkpoint", titled, "--form", "五绝", "--seed", 3, "--title", "春江")[1]


@pytest.mark.parametrize("args, message", [
    (["--title", ""], "不能为空"),
    (["--title", "咖啡"], "不在词表"),
    (["--keywords", "春风,咖啡"], "不在词表"),
    (["--title", "春", "--keywords", "江天"], "只能给一种"),
    (["--title", "春江" * 7], "最多 12 个字"),
    (["--title", "春", "--keywords", "江天", "--plan"], "只能给一种"),
    (["--title", "𠀀", "--plan"], "不在词表"),
])
def test_bad_title_or_keywords_give_one_clear_line(titled, args, message):
    code, out, err = poem_cli("--checkpoint", titled, "--form", "五绝", *args)
    assert code != 0 and out == "" and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("错误：")


def test_a_model_without_titles_says_so(tiny):
    code, out, err = poem_cli("--checkpoint", tiny, "--title", "春江")
    assert code != 0 and out == "" and "没有学过按题作诗" in err


def test_the_shipped_poet_is_the_default_when_its_record_matches(tmp_path, monkeypatch):
    """models/poet.pt 在、且与 poet.json 的 sha256 相符时 make poem 默认用它；对不上就退回第 7 章的模型。"""
    import json

    from utils import course_models, poem_cli, provenance

    monkeypatch.setattr(course_models, "SHIPPED_DIR", tmp_path)
    monkeypatch.setattr(poem_cli, "CACHE_DIR", tmp_path / "cache")
    assert course_models.poet_checkpoint() is None
    poet = tiny_checkpoint(VOCAB, tmp_path / "poet.pt")
    (tmp_path / "poet.json").write_text(json.dumps({"sha256": provenance.sha256(poet)}), encoding="utf-8")
    assert poem_cli.default_checkpoint("torch", "lstm") == poet
    assert poem_cli.default_checkpoint("tf", "lstm") != poet and poem_cli.default_checkpoint("torch", "gru") != poet
    (tmp_path / "poet.json").write_text(json.dumps({"sha256": "0" * 64}), encoding="utf-8")
    assert course_models.poet_checkpoint() is None


def test_the_readme_poems_are_what_make_poem_writes_with_their_seeds(tmp_path):
    """README 里的八首诗是随仓库提交的大模型按种子写的（没有挑选）：逐个体裁重跑同样的命令，得到同样的诗。"""
    import re

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"  == (\S+)（--seed (\d+) --count 2）\n((?:  .*\n|\n)+?)(?=  ==|  ```)", readme)
    assert [form for form, _, _ in blocks] == ["五绝", "七绝", "五律", "七律"]
    for form, seed, text in blocks:
        code, out, err = poem_cli("--form", form, "--metre", "--seed", seed, "--count", "2", cache=tmp_path)
        assert code == 0, err
        assert out.split() == text.split(), form
