## plugins/local.mk - the capability plugins (dlopen modules).
include plugins/infra/local.mk
include plugins/desktop-metrics/local.mk
include plugins/template/local.mk
