"""Jobs follow a renamed category or PIC team.

Jobs store the slug, not a foreign key, so when taxonomy renames one
(:data:`taxonomy.signals.slug_renamed`) the matching jobs get the new slug and
a fresh ``updated_at``, in the rename's transaction.
"""

from __future__ import annotations

from django.dispatch import receiver
from django.utils import timezone

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
    return Job.objects.filter(**{field: old}).update(**{field: new, "updated_at": timezone.now()})
