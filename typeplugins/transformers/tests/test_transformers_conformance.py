"""flyte-core's conformance suite for type plugins, run on types carried by Flyte 2 transformers."""

from __future__ import annotations

import transformers_samples as ts

from flyte_core.testing.types import TypeTransformerSuite


class TestFlyte2Transformers(TypeTransformerSuite):
    cases = [
        (ts.Point, ts.Point(1.5, -2.0)),
        (ts.Path2D, ts.Path2D([ts.Point(0, 0), ts.Point(3, 4)])),
    ]
    wrong_values = [(ts.Point, "1,2"), (ts.Path2D, 3)]
