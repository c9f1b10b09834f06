"""The task ``flyte run greet.py greet`` runs in the cold-start benchmark (bench/issue17.py)."""

import flyte

env = flyte.TaskEnvironment(name="bench_greet")


@env.task
def greet(name: str = "world") -> str:
    return f"Hello, {name}!"
