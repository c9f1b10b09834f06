"""What ``bench/issue17.py`` times as a cache hit in a new process: a script that defines a cached
task, starts a session and runs the task once, always with the same input. The first run fills
the cache; every later run, each in a fresh interpreter, is a hit, served from the cache without
its backend (docs/runs.md). The figure is its time over ``python -c "import flyte"``.
"""

import flyte

env = flyte.TaskEnvironment(name="bench_coldhit", cache="auto")


@env.task
def inc(x: int) -> int:
    return x + 1


if __name__ == "__main__":
    flyte.init()
    flyte.run(inc, 41)
