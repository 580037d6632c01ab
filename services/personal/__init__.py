"""What each user tells Marquee about themselves: settings, services, alerts."""
