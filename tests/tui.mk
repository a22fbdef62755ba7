## tests/tui.mk - see tests/local.mk
