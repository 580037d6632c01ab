"""/settings: a user's region, language, services, spoiler mode and alerts."""
