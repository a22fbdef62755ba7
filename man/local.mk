## man/local.mk - manual pages
dist_man_MANS += man/chiffon.1 man/chiffon.conf.5 man/chiffon-schema.7
