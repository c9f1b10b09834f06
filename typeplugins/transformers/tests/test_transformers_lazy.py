"""The package imports its modules on first use: a program that never registers a transformer, only
names one in ``Annotated[...]``, gets it without the engine module ever having been imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROGRAM = '''
import sys

from flyteidl2.core.literals_pb2 import Literal, Primitive, Scalar
from flyteidl2.core.types_pb2 import LiteralType, SimpleType
from typing import Annotated

import flyte
from flyte.types import TypeTransformer

env = flyte.TaskEnvironment(name="lazy_transformers")


class Shouted(TypeTransformer[str]):
    def __init__(self) -> None:
        super().__init__("Shouted", str)

    def get_literal_type(self, t: object = None) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    def to_literal(self, python_val: str, python_type: object, expected: object) -> Literal:
        return Literal(scalar=Scalar(primitive=Primitive(string_value=python_val.upper() + "!")))

    def to_python_value(self, lv: Literal, expected_python_type: object) -> str:
        return lv.scalar.primitive.string_value


SHOUTED = Shouted()


@env.task
def echo(s: Annotated[str, SHOUTED]) -> str:
    return s


if __name__ == "__main__":
    print("engine imported before the run:", "flyte_types_transformers.engine" in sys.modules)
    flyte.init()
    print("result:", flyte.run(echo, s="hi").outputs()[0])
'''


def test_an_annotated_transformer_works_without_the_engine_imported(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    out = subprocess.run([sys.executable, "prog.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr
    assert "engine imported before the run: False" in out.stdout
    assert "result: HI!" in out.stdout
