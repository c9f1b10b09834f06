"""Cache policies (flyte.CachePolicy, flyte._cache.FunctionBodyPolicy): they decide the cache version."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import flyte
from flyte._cache import CachePolicy, FunctionBodyPolicy, VersionParameters, get_default_policies
from flyte_core.run.cache import cache_key, task_version
from tests import surface_tasks as t


@pytest.fixture(autouse=True)
def _init() -> None:
    flyte.init()
    t.CALLS.clear()
    t.CountingPolicy.VERSION = "one"


def test_a_custom_policy_sets_the_version_so_changing_it_misses_the_cache() -> None:
    assert flyte.run(t.cached_square, x=3).outputs()[0] == 9
    assert flyte.run(t.cached_square, x=3).outputs()[0] == 9
    assert t.CALLS == [3]  # the second run was a cache hit
    t.CountingPolicy.VERSION = "two"
    assert flyte.run(t.cached_square, x=3).outputs()[0] == 9
    assert t.CALLS == [3, 3]


def test_the_salt_reaches_the_policy_and_the_policies_combine() -> None:
    a = t.cached_square.override(cache=flyte.Cache("auto", policies=[t.CountingPolicy()], salt="a"))
    b = t.cached_square.override(cache=flyte.Cache("auto", policies=[t.CountingPolicy()], salt="b"))
    assert task_version(a) != task_version(b)
    both = t.cached_square.override(cache=flyte.Cache("auto", policies=[t.CountingPolicy(), FunctionBodyPolicy()]))
    assert task_version(both) != task_version(t.cached_square)
    assert cache_key(a, {"x": 1})[0] != cache_key(b, {"x": 1})[0]


def test_function_body_policy_is_the_default_and_follows_the_source() -> None:
    assert isinstance(get_default_policies()[0], FunctionBodyPolicy)
    assert isinstance(FunctionBodyPolicy(), CachePolicy) and isinstance(t.CountingPolicy(), flyte.CachePolicy)
    p = FunctionBodyPolicy()
    v1 = p.get_version("", VersionParameters(func=t.add_one))
    assert v1 == p.get_version("", VersionParameters(func=t.add_one))
    assert v1 != p.get_version("salt", VersionParameters(func=t.add_one))
    assert v1 != p.get_version("", VersionParameters(func=t.where_am_i))
    assert p.get_version("", VersionParameters(func=None)) == ""


def test_an_object_without_get_version_is_refused() -> None:
    with pytest.raises(TypeError, match="get_version"):
        flyte.Cache("auto", policies=["not a policy"])


def test_a_failing_policy_names_the_task() -> None:
    class Broken:
        def get_version(self, salt: str, params: VersionParameters) -> str:
            raise RuntimeError("no git here")

    task = t.add_one.override(cache=flyte.Cache("auto", policies=Broken()))
    with pytest.raises(ValueError, match=r"surface.add_one.*no git here"):
        task_version(task)


def test_sorted_json_is_the_encoders_text() -> None:
    """The cache key's hand-written JSON for tiny literal maps is byte-for-byte ``json.dumps``'s (keys
    of existing cache entries must not change)."""
    import json

    from flyte_core.run.cache import sorted_json

    cases = [
        {"x": {"t": "int", "v": 1, "d": 5}}, {"n": {"t": "int", "v": 1, "d": -12345678901234567890}},
        {"flag": {"t": "bool", "v": 1, "d": True}}, {"flag": {"t": "bool", "v": 1, "d": False}},
        {"hash": {"t": "int", "v": 2, "d": 0}}, {"x": {"t": "float", "v": 1, "d": 1.5}},
        {"é": {"t": "int", "v": 1, "d": 1}}, {"x": {"t": "in t", "v": 1, "d": 1}}, {"x": {"t": "int", "v": 1}},
        {"x": {"t": "int", "v": True, "d": 1}},
        {"a": {"t": "int", "v": 1, "d": 1}, "b": {"t": "str", "v": 1, "d": "s"}},
        {}, {"x": {"t": "int", "v": 1, "uri": "s3://b/k", "hash": "ab"}},
    ]
    for literals in cases:
        assert sorted_json(literals) == json.dumps(literals, sort_keys=True, separators=(",", ":")), literals


def test_the_cache_key_is_the_hash_of_name_version_salt_and_inputs() -> None:
    """The key's formula (existing cache entries are found by it): sha256 over the task name, its
    version, the salt and the inputs' hash, each followed by a NUL byte."""
    import hashlib

    from flyte_core.run.cache import inputs_hash

    task = t.cached_square.override(cache=flyte.Cache("auto", salt="pepper"))
    inputs = {"x": {"t": "int", "v": 1, "d": 3}}
    key, version = cache_key(task, inputs)
    h = hashlib.sha256()
    for part in (task.name, version, "pepper", inputs_hash(inputs)):
        h.update(part.encode() + b"\0")
    assert (key, version) == (h.hexdigest(), task_version(task))



@given(st.lists(st.sampled_from(["", " ", "\t", "    x = 1", "  ", " \t ", "\t\ty", "    # note  ", "z = 2 "]),
                max_size=8),
       st.sampled_from(["def f():\n", "    def g(self):\n", "\tdef h():\n"]), st.sampled_from(["", "\n", " \n", "\t"]))
def test_the_hashed_source_is_the_dedented_source_as_before(body: list[str], head: str, tail: str) -> None:
    """The version hashes ``textwrap.dedent`` of the function's source, now made without textwrap
    for a module-level function: it must stay the same text, or cached entries would miss after an
    upgrade."""
    import textwrap

    from flyte_core.task.cachepolicy import dedented

    source = head + "\n".join(body) + tail
    assert dedented(source) == textwrap.dedent(source)


def test_a_real_functions_source_is_hashed_as_its_dedented_source(tmp_path: Path) -> None:
    import importlib.util
    import inspect
    import textwrap

    from flyte_core.task.cachepolicy import _source

    (tmp_path / "srcmod.py").write_text(
        "def top(x):\n    y = x\n    \n\t\n    return y\n\n\nclass K:\n    def method(self):\n        \n"
        "        return 1\n\n\ndef outer():\n    def inner():\n        \n        return 2\n    return inner\n")
    spec = importlib.util.spec_from_file_location("srcmod", tmp_path / "srcmod.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for fn in (mod.top, mod.K.method, mod.outer(), mod.outer):
        assert _source(fn) == textwrap.dedent(inspect.getsource(fn))
