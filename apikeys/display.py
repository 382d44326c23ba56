"""How keys look in pages, wherever they are shown."""

# What stands in a page for a secret that is not shown: in the keys list, on the Get started
# page and in its samples (whose Copy swaps it for the real secret). No "akps_" prefix, so no
# page holds anything secret-shaped.
SECRET_MASK = "•" * 16
