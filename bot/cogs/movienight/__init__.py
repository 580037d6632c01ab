"""/movienight: group picks with a live vote."""
