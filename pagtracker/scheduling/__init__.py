"""The platform's scheduler: runs the recurring jobs ``pagtracker.schedule`` declares, once per
period across every worker process."""
