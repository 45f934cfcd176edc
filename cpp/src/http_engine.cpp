// PLACEHOLDER: filled in by the http_engine work.
