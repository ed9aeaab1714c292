"""``dlcourse bench``: what the reference models reach, how fast, next to published figures."""
