"""Database backends the platform configures in place of Django's own."""
