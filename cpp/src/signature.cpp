// PLACEHOLDER: filled in by the signature work.
