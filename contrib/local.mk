## contrib/local.mk - the demo homelab and helper scripts
EXTRA_DIST += contrib/install-deps .ci/run

## The demo homelab (contrib/homelab): an Ansible repository whose hosts
## all run locally under $CHIFFON_DEMO_ROOT; see its ansible.cfg.
EXTRA_DIST += \
	contrib/homelab/ansible.cfg \
	contrib/homelab/desktop-setup.yml \
	contrib/homelab/grafana-backup.yml \
	contrib/homelab/grafana-deploy.yml \
	contrib/homelab/group_vars/all/main.yml \
	contrib/homelab/group_vars/all/portals.yml \
	contrib/homelab/homepage-config.yml \
	contrib/homelab/homepage-deploy.yml \
	contrib/homelab/inventory/demo.yml \
	contrib/homelab/inventory/production.yml.example \
	contrib/homelab/jellyfin-deploy.yml \
	contrib/homelab/jellyfin-remove.yml \
	contrib/homelab/kuma-deploy.yml \
	contrib/homelab/kuma-monitors.yml \
	contrib/homelab/nextcloud-backup.yml \
	contrib/homelab/nextcloud-deploy.yml \
	contrib/homelab/pihole-config.yml \
	contrib/homelab/pihole-deploy.yml \
	contrib/homelab/proxmox-backup.yml \
	contrib/homelab/roles/app_backup/defaults/main.yml \
	contrib/homelab/roles/app_backup/tasks/main.yml \
	contrib/homelab/roles/compose_app/defaults/main.yml \
	contrib/homelab/roles/compose_app/meta/main.yml \
	contrib/homelab/roles/compose_app/tasks/main.yml \
	contrib/homelab/roles/compose_app/templates/docker-compose.yml.j2 \
	contrib/homelab/roles/compose_remove/defaults/main.yml \
	contrib/homelab/roles/compose_remove/tasks/main.yml \
	contrib/homelab/roles/uptime_kuma/defaults/main.yml \
	contrib/homelab/roles/uptime_kuma/tasks/main.yml \
	contrib/homelab/roles/uptime_kuma/templates/monitors.json.j2 \
	contrib/homelab/site.yml \
	contrib/homelab/unraid-shares.yml

## The systemd unit of `chiffon agent`, installed where pkg-config says
## systemd keeps units (configure --with-systemdsystemunitdir).
if HAVE_SYSTEMD
systemdsystemunit_DATA = contrib/chiffon-agent.service
endif
contrib/chiffon-agent.service: $(srcdir)/contrib/chiffon-agent.service.in \
	Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	sed -e 's|@bindir[@]|$(bindir)|g' \
	    $(srcdir)/contrib/chiffon-agent.service.in > $@.tmp && \
	mv -f $@.tmp $@
noinst_DATA = contrib/chiffon-agent.service
CLEANFILES += contrib/chiffon-agent.service
EXTRA_DIST += contrib/chiffon-agent.service.in
# distcheck installs below its own prefix, the unit too.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$$(prefix)/lib/systemd/system'
