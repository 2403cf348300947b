"""Long work off the script thread: one job type, device queues, the registry, a session's jobs, their view."""
