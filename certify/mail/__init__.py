"""Outgoing e-mail: one interface, SMTP when configured, otherwise kept in the mail log."""
