"""The runnable demo (``python3 dev.py demo``)."""
