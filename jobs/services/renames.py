"""Jobs follow a renamed category or PIC team.

Jobs store the slug, not a foreign key, so when taxonomy renames one
(:data:`taxonomy.signals.slug_renamed`) the matching jobs get the new slug and
a fresh ``updated_at``, in the rename's transaction, and each job's history says so
(the author is whoever renamed the category or team).
"""

from __future__ import annotations

from django.dispatch import receiver
from django.utils import timezone

from cronhub import audit
from jobs.models import Job
from taxonomy.models import JobCategory, PicTeam
from taxonomy.signals import slug_renamed

JOB_FIELD = {JobCategory: "category", PicTeam: "pic_team"}


@receiver(slug_renamed, dispatch_uid="jobs-follow-renamed-slug")
def jobs_follow_renamed_slug(sender, *, old: str, new: str, **kwargs) -> int:
    """Rewrite ``old`` → ``new`` in the jobs' category or pic_team; how many jobs changed."""
    field = JOB_FIELD.get(sender)
    if field is None:
        return 0
    matching = Job.objects.filter(**{field: old})
    ids = list(matching.values_list("pk", flat=True))
    changed = Job.objects.filter(pk__in=ids).update(**{field: new, "updated_at": timezone.now()})
    for job in Job.objects.filter(pk__in=ids):
        audit.record(job, reason=f"{sender._meta.verbose_name} renamed: {old} → {new}"[:100])
    return changed
