"""scripts/bench_quality.py 的配方：第 8 章第 7 节“每次只改一处”的对照行要正好覆盖常见配方的全部改动；
提交在 results/bench/ 的结果是完整模式的运行，README 的表引自它们。"""
import json

from scripts import bench_malloc, bench_quality
from utils.settings import REPO_ROOT


def settings(recipe):
    return {k: v for k, v in recipe.items() if k != "name"}


def test_one_change_rows_cover_every_difference_once():
    course, common = settings(bench_quality.COURSE), settings(bench_quality.COMMON)
    differing = {k for k in course if course[k] != common[k]}
    grouped = [k for keys in bench_quality.COMMON_CHANGES.values() for k in keys]
    assert sorted(grouped) == sorted(differing)      # 每处不同都有对照，且只出现在一个对照里


def test_each_one_change_recipe_differs_from_course_only_there():
    course, common = settings(bench_quality.COURSE), settings(bench_quality.COMMON)
    for change, keys in bench_quality.COMMON_CHANGES.items():
        recipe = settings(bench_quality.one_change_recipe(change))
        assert {k for k in course if recipe[k] != course[k]} == set(keys), change
        assert all(recipe[k] == common[k] for k in keys), change


RESULTS = REPO_ROOT / "results" / "bench"


def committed(name):
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def test_committed_results_are_full_runs():
    for name in ("speed", "quality", "levers", "levers_fused_avx2", "poet", "malloc"):
        result = committed(name)
        assert not result["machine"]["fast"] and not result["machine_end"]["fast"], name


def test_the_readme_tables_quote_the_committed_results():
    """README 的“哪一处让常见配方慢”与杠杆表，每一行的字/秒和测试集困惑度都来自 results/bench/。"""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quality, levers = committed("quality"), committed("levers")
    runs = [quality["course"], quality["common"], *quality["one_change"], *levers["runs"]]
    for r in runs:
        for quoted in (f"{r['tokens_per_s']:,.0f}", f"{r['test_ppl']:.1f}"):
            assert f"| {quoted} |" in readme, (r["recipe"]["name"], quoted)
    # 第 6 章的 2100 步：Keras 的循环对融合算子，训练分钟也引自结果文件
    fused = committed("levers_fused_avx2")
    assert fused["steps"] == 2100 and [r["steps"] for r in fused["runs"]] == [2100, 2100]
    for r in fused["runs"]:
        for quoted in (f"{r['tokens_per_s']:,.0f}", f"{r['minutes']:.1f}", f"{r['test_ppl']:.1f}"):
            assert f"| {quoted} |" in readme, (r["recipe"]["name"], quoted)


def test_the_readme_malloc_table_is_the_committed_one():
    """README 的内存分配表，每一行都与 results/bench/malloc.json 用 bench_malloc.malloc_table 排出来的一样。"""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for row in bench_malloc.malloc_table(committed("malloc")):
        assert "| " + " | ".join(row) + " |" in readme, row
