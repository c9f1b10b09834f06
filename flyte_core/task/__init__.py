"""The task model: what ``@env.task`` builds (templates, environments, interfaces, settings), and
calling tasks."""
