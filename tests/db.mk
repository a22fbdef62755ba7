## tests/db.mk - see tests/local.mk
