"""API-wide pieces every app's API uses: error bodies, permissions, formats."""
