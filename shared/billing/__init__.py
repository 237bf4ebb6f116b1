"""Invoices, their lines, payments and credit notes. Every record knows the UK tax year it belongs
to (6 April to 5 April), which is what its 8-year retention counts from."""
