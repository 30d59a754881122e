"""What each column type means, in one table (filled in below)."""
