"""The admin console (``/admin/``): users, staff accounts, the mail log."""
