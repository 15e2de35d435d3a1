"""Reports for the board: media visibility over a period, from SQL aggregates."""
