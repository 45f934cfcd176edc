"""Client processes of the benchmark: each sends N messages and prints one JSON line."""
