"""Accounts: login, logout, registration, passwords and colleagues."""
