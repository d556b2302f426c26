"""Vietnamese input: dates, money and shares as people type them, phone numbers, accent-free text keys."""
