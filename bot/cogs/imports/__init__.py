"""/import: history from Letterboxd, IMDb and Trakt (services/imports/)."""
