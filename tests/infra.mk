## tests/infra.mk - see tests/local.mk
