"""The image role's test app: it only says which image it is."""
