// PLACEHOLDER: loopback HTTP server for the engine and client tests.
