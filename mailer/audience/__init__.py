"""Lists, subscribers, suppressions, imports and exports, segments."""
