"""Your data out: what Marquee keeps about you, counted, downloaded and deleted (/mydata)."""
