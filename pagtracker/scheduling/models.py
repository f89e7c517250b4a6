from django.db import models


class ScheduledJob(models.Model):
    """One row per recurring job. A worker runs a job only after moving ``next_run_at`` one
    period ahead in a conditional UPDATE, so each period is claimed by exactly one worker."""

    name = models.CharField(primary_key=True, max_length=100)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "tarefa periódica"
        verbose_name_plural = "tarefas periódicas"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at})"
