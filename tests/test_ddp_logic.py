"""scripts/train_ddp.py 与 scripts/bench_ddp.py 里不用 torchrun、不用 GPU 就能核对的部分：
选通信后端（进程不能比 GPU 多）、续训状态的存取（每个进程的随机状态）、测速结果的判定规则。"""
import pytest
import torch
import torch.distributed as dist

from scripts import bench_ddp, train_ddp


def test_processes_never_outnumber_the_gpus():
    assert train_ddp.choose_backend(2, 0) == ("gloo", None)            # 只有 CPU
    assert train_ddp.choose_backend(2, 2) == ("nccl", None)            # 每个进程一块 GPU
    assert train_ddp.choose_backend(1, 8) == ("nccl", None)
    assert train_ddp.choose_backend(2, 2, device="cpu") == ("gloo", None)
    backend, message = train_ddp.choose_backend(2, 1)                  # Colab：1 块 GPU、2 个进程
    assert backend == "gloo"
    assert "1 块 GPU" in message and "2 个进程" in message and "\n" not in message


@pytest.fixture
def one_process_group(tmp_path):
    """本进程自己组成一个 gloo 进程组（world_size 1），测试完拆掉。"""
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


def test_setup_falls_back_to_cpu_when_one_gpu_serves_two_processes(monkeypatch, capsys):
    """假装有 1 块 GPU、这台机器上有 2 个进程：setup 不碰 GPU，用 gloo 和 CPU，并说一行为什么。"""
    store = dist.TCPStore("127.0.0.1", 0, 1, is_master=True, wait_for_workers=False)
    env = dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", LOCAL_WORLD_SIZE="2",
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(store.port))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)

    def no_gpu(*args):
        raise AssertionError("不该用 GPU")

    monkeypatch.setattr(torch.cuda, "set_device", no_gpu)
    threads = torch.get_num_threads()
    try:
        rank, world, device = train_ddp.setup()
        assert (rank, world, device.type) == (0, 1, "cpu")
        assert dist.get_backend() == "gloo"
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
        torch.set_num_threads(threads)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "全部改用 CPU 和 gloo" in err


def test_save_and_load_state_restore_model_optimizer_schedule_and_random_state(tmp_path, one_process_group):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1 + step))
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    schedule.step()
    progress = dict(step=1, epoch=0, batch=1, losses=[0.5])
    path = tmp_path / "state.pt"
    device = torch.device("cpu")

    assert train_ddp.load_state(path, model, optimizer, schedule, device) is None   # 还没有续训文件
    train_ddp.save_state(path, model, optimizer, schedule, progress, device)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    expected = torch.rand(5)            # 存档之后抽的随机数：续训后应当再抽到同样的
    saved = torch.load(path, weights_only=True)
    assert len(saved["rng"]) == 1 and sorted(saved["rng"][0]) == ["cpu"]           # 每个进程一份（这里只有 1 个进程）

    with torch.no_grad():               # 把一切弄乱
        for p in model.parameters():
            p.add_(1.0)
    optimizer.step()
    schedule.step()
    torch.manual_seed(123)

    restored = train_ddp.load_state(path, model, optimizer, schedule, device)
    assert restored == progress
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, weights[k])
    assert schedule.last_epoch == 1
    torch.testing.assert_close(torch.rand(5), expected)


def test_anyone_agrees_on_a_yes(one_process_group):
    device = torch.device("cpu")
    assert train_ddp.anyone(True, device) is True
    assert train_ddp.anyone(False, device) is False


def fake_launch(sync, no_sync, tokens=1000):
    return dict(tokens=tokens, seconds=dict(sync=sync, no_sync=no_sync), gradient_bytes=8)


def fake_result(one, many):
    return dict(runs=[dict(processes=1, threads=2, speed=one, race=None),
                      dict(processes=2, threads=1, speed=many, race=None)])


def test_the_verdicts_only_report_differences_beyond_the_spread():
    one = [fake_launch([1.00, 1.02], [1.01, 0.99]), fake_launch([1.01, 0.98], [1.00, 1.02])]
    slow = [fake_launch([1.20, 1.22], [1.00, 1.01]), fake_launch([1.21, 1.19], [1.02, 0.99])]
    s = bench_ddp.summarize(slow)
    assert len(s["sync"]) == len(s["no_sync"]) == len(s["share"]) == 4
    assert s["share"][0] == pytest.approx(1 - 1.00 / 1.20)
    lines = bench_ddp.verdicts(fake_result(one, slow))
    assert "全归约确实花了时间" in lines[1]
    assert "前者慢" in lines[2]                                   # 照常训练：2 个进程慢，范围不重叠
    assert "分不出快慢" in lines[3]                               # 不全归约时：一样快

    same = [fake_launch([1.00, 1.03], [0.99, 1.02]), fake_launch([1.02, 0.98], [1.01, 1.00])]
    lines = bench_ddp.verdicts(fake_result(one, same))
    assert "测不出全归约的代价" in lines[1] and "分不出快慢" in lines[2]
    assert bench_ddp.compare([3, 4], [1, 2]) == 1 and bench_ddp.compare([1, 2], [3, 4]) == -1
    assert bench_ddp.compare([1, 3], [2, 4]) == 0
    rows = bench_ddp.rows(fake_result(one, slow))
    assert rows[0][3].endswith("（噪声）") and rows[1][4] == "—"


def test_a_time_limit_is_refused_for_several_processes(monkeypatch):
    """--max-minutes 只用于单进程：各进程各自计时，会停在不同的步上，下一次全归约就卡住。"""
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(SystemExit, match="--max-minutes"):
        train_ddp.main(["--max-minutes", "1"])


def test_the_song_corpus_is_checked_against_its_recorded_checksum(tmp_path, monkeypatch):
    from scripts import build_poems
    from utils.settings import DATA_DIR

    assert f"sha256 `{build_poems.SONG_SHA256}`" in (DATA_DIR / "README.md").read_text(encoding="utf-8")
    monkeypatch.setattr(train_ddp, "SONG_POEMS_PATH", tmp_path / "poems_song.txt")
    with pytest.raises(SystemExit, match="没有宋诗语料"):
        train_ddp.check_song_corpus()
    (tmp_path / "poems_song.txt").write_text("无题:床前明月光，疑是地上霜。\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="sha256 不同"):
        train_ddp.check_song_corpus()
