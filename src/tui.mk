## src/tui.mk - see src/local.mk
