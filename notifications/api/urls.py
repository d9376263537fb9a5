"""notifications API routes (mounted under /api/v2/)."""

urlpatterns: list = []
