"""Your data in: imports from Letterboxd, IMDb and Trakt (see service.py)."""
