"""Result folders (atomic, owning only their files), writers, loaders, plots and reports."""
