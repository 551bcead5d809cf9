"""The review web app: approve, reject and re-roll takes."""
