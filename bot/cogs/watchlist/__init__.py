"""The watchlist: /watchlist (cog.py, its list in view.py) and the card's "+ Watchlist" button
(buttons.py, imported by bot/card.py, so this package imports nothing itself)."""
