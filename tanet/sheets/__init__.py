"""Reading the spreadsheets people actually have (CSV in any encoding, .xlsx) and choosing their columns."""
