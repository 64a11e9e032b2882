"""Package data: the standards' class tables and the legacy ↔ 2026 class map."""
