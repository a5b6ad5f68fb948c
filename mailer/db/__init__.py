"""The database: table definitions, the engine factory and migrations."""
