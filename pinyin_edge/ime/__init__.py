"""Input-method dictionaries: read Rime, libpinyin and plain word lists, annotate and check them."""
