print("kumo imgtest")
