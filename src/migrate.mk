## src/migrate.mk - see src/local.mk
