"""The service layer: the rules between the routes and data access."""
