// Nothing to import: this target only contributes definitions to the link (see hypot.c).
