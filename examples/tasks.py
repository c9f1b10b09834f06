"""The examples of the Tasks page (seed/tasks.md), runnable as they are shown.

    flyte run examples/tasks.py greet --name World      # Hello, World!
    flyte run examples/tasks.py pipeline --x 3          # 16
"""

import flyte

env = flyte.TaskEnvironment(name="my_env")


@env.task
def greet(name: str) -> str:
    return f"Hello, {name}!"


@env.task
def process_numbers(values: list[int]) -> int:
    return sum(values)


@env.task
def fetch_data(url: str) -> dict:
    # Runs in container 1
    return {"url": url, "rows": [1, 2, 3]}


def transform(data: dict) -> str:
    return f"{data['url']}: {sum(data['rows'])}"


@env.task
def process_data(url: str) -> str:
    data = fetch_data(url)  # Calls fetch_data, runs in container 2
    return transform(data)


@env.task
def step_one(x: int) -> int:
    return x * 2


@env.task
def step_two(x: int) -> int:
    return x + 10


@env.task
def pipeline(x: int) -> int:
    a = step_one(x)  # Run step_one
    b = step_two(a)  # Run step_two with result
    return b


@env.task
def task_a(input: str) -> str:
    return input.upper()


@env.task
def task_b(input: str) -> str:
    return f"{input}!"


# Flyte 2: Pure Python
@env.task
def my_workflow(input: str) -> str:
    result_a = task_a(input)
    result_b = task_b(result_a)
    return result_b


if __name__ == "__main__":
    # Direct call - runs locally, not in a container
    result = greet("World")
    print(result)  # "Hello, World!"

    flyte.init_from_config()
    result = flyte.run(greet, name="World")
    print(result)  # "Hello, World!"
