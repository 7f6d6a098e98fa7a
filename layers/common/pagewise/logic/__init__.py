"""Domain logic: what each function does, knowing nothing of Lambda or HTTP."""
