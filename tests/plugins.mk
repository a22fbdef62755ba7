## tests/plugins.mk - see tests/local.mk
