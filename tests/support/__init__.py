"""Helpers, fakes and data shared by the test packages."""
