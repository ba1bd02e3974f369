"""Face analysis of a shot (full or online) and the analysis record the server stores."""
