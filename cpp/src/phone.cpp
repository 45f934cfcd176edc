// PLACEHOLDER: filled in by the phone work.
