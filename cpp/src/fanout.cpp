// PLACEHOLDER: filled in by the fanout work.
