"""Step-by-step connectivity checks with pass/warn/fail results, remedies and exported reports."""
