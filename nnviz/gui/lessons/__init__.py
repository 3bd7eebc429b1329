"""The Lessons window: a claim of the notes, its runs side by side, and the verdict."""
