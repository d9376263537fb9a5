"""What taxonomy tells the apps that refer to categories and PIC teams by slug.

``slug_renamed`` is sent inside the transaction that renames a category or a
team (``sender``: ``JobCategory`` or ``PicTeam``; ``old`` and ``new``: the slugs).
A receiver rewrites its own references and returns how many rows it changed;
taxonomy reports the total. Taxonomy does not know who refers to it.
"""

from __future__ import annotations

from django.dispatch import Signal

slug_renamed = Signal()
