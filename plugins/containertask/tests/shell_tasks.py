"""Shell tasks as a user module (imported by worker processes too)."""

from __future__ import annotations

import os

import flyte
from flyte.extras.shell import Glob, Stdout, create
from flyte.io import File

BASE_IMAGE = os.environ.get("FLYTE_DOCKER_TEST_BASE_IMAGE", "flyte-ci/python:3.11-bookworm")

# Every input kind, flags in each mode, and every output kind.
summarize = create(
    name="summarize",
    image=BASE_IMAGE,
    inputs={"doc": File, "parts": list[File], "n": int, "label": str | None, "verbose": bool,
            "opts": dict[str, str], "tag": str},
    outputs={"flags": File, "lines": int, "name": Stdout(type=str), "copies": Glob("*.part")},
    flag_aliases={"parts": ("-p", "repeat"), "opts": ("", "equals"), "label": "--label"},
    defaults={"tag": "t1"},
    script=r"""
        printf '[%s]\n' {flags.verbose} {flags.label} {flags.parts} {flags.opts} {flags.n} > {outputs.flags}
        wc -l < {inputs.doc} | tr -d ' ' > {outputs.lines}
        printf '%s|%s|%s' "$(basename {inputs.doc})" {inputs.label} {inputs.tag}
        for f in {inputs.parts}; do cp "$f" {outputs.copies}/"$(basename "$f").part"; done
        touch {outputs.copies}/skipped.txt
    """,
)

fails = create(name="shell_fails", image=BASE_IMAGE, script="echo broken >&2; exit 4")
env = flyte.TaskEnvironment("shell_caller", depends_on=[summarize.env, fails.env])


@env.task
async def pipeline(text: str) -> tuple[str, int, str, list[str]]:
    with open("doc.txt", "w") as f:
        f.write(text)
    with open("a.fa", "w") as f:
        f.write("A")
    with open("b.fa", "w") as f:
        f.write("B")
    doc = await File.from_local("doc.txt")
    parts = [await File.from_local("a.fa"), await File.from_local("b.fa")]
    flags, lines, name, copies = await summarize(doc=doc, parts=parts, n=3, label="it's $HOME `x`", verbose=True,
                                                 opts={"--min": "2", "--mode": "fast"})
    async with flags.open("rb") as fh:
        rendered = (await fh.read()).decode()
    return rendered, lines, name, sorted(c.name for c in copies)
