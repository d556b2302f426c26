"""Reports an officer takes away: charts (PNG) and workbooks (XLSX)."""
