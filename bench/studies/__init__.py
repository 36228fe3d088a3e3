"""Studies of one engine part each (the sentence splitter, page-clutter removal, story grouping): unlike the
rest of the harness, which uses only the engine's API, a study measures the part it studies from inside."""
