"""👍/👎: the card's buttons, and "👍 Like…" / "👎 Not for me…" on the lists of /ask, /foryou,
/similar and /semantic (buttons.py; imported by bot/card.py, so this package imports nothing)."""
