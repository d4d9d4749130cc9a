"""Pages that belong to no single area: the home page, the language switcher, health."""
