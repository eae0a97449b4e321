"""scripts/benchmark.py 的配方：第 08 章第 7 节“每次只改一处”的对照行要正好覆盖常见配方的全部改动。"""
import sys

from utils.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import benchmark  # noqa: E402


def settings(recipe):
    return {k: v for k, v in recipe.items() if k != "name"}


def test_one_change_rows_cover_every_difference_once():
    course, common = settings(benchmark.COURSE), settings(benchmark.COMMON)
    differing = {k for k in course if course[k] != common[k]}
    grouped = [k for keys in benchmark.COMMON_CHANGES.values() for k in keys]
    assert sorted(grouped) == sorted(differing)      # 每处不同都有对照，且只出现在一个对照里


def test_each_one_change_recipe_differs_from_course_only_there():
    course, common = settings(benchmark.COURSE), settings(benchmark.COMMON)
    for change, keys in benchmark.COMMON_CHANGES.items():
        recipe = settings(benchmark.one_change_recipe(change))
        assert {k for k in course if recipe[k] != course[k]} == set(keys), change
        assert all(recipe[k] == common[k] for k in keys), change
