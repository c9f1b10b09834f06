"""Container tasks and a Python task calling them, as a user module (imported by worker processes too)."""

from __future__ import annotations

import os

import flyte
from flyte.extras import ContainerTask
from flyte.io import File

BASE_IMAGE = os.environ.get("FLYTE_DOCKER_TEST_BASE_IMAGE", "flyte-ci/python:3.11-bookworm")

# Reads its input file and scalar inputs as files (and from the command template), writes two outputs.
count_words = ContainerTask(
    name="count_words",
    image=BASE_IMAGE,
    inputs={"doc": File, "word": str, "shout": bool},
    outputs={"count": int, "shouted": File},
    command=["sh", "-c",
             "grep -o {{.inputs.word}} /var/inputs/doc | wc -l > /var/outputs/count; "
             "test \"$(cat /var/inputs/word)\" = {{.inputs.word}} || exit 9; "
             "echo shout={{.inputs.shout}}; "
             "if {{.inputs.shout}}; then tr a-z A-Z < /var/inputs/doc; else cat /var/inputs/doc; fi "
             "> /var/outputs/shouted"],
)

# Python in the image reads the JSON metadata file CoPilot-style; custom data folders.
describe = ContainerTask(
    name="describe",
    image=flyte.Image.from_base(BASE_IMAGE),
    inputs={"n": int, "label": str},
    outputs={"summary": str},
    input_data_dir="/in",
    output_data_dir="/out",
    command=["python3", "-c",
             "import json; d = json.load(open('/in/inputs.json')); "
             "open('/out/summary', 'w').write(f\"{d['label']}={d['n'] * 2}\")"],
)

fails = ContainerTask(name="fails", image=BASE_IMAGE, command=["sh", "-c", "echo broken >&2; exit 3"])

container_env = flyte.TaskEnvironment.from_task("container_env", count_words, describe)
env = flyte.TaskEnvironment("ct_caller", depends_on=[container_env])


@env.task
async def pipeline(text: str, word: str) -> tuple[int, str, str]:
    with open("doc.txt", "w") as f:
        f.write(text)
    n, shouted = await count_words(doc=await File.from_local("doc.txt"), word=word, shout=True)
    async with shouted.open("rb") as fh:
        body = (await fh.read()).decode()
    summary = await describe(n=n, label=word)
    return n, body, summary
