"""Statistics for administrators: charts and the data behind each, downloadable as CSV."""
