"""What a task body sees while it runs: its context, reports, checkpoints, groups, traces, durable
values, logs."""
