## src/db.mk - see src/local.mk
