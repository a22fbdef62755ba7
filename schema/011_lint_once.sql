-- 011_lint_once.sql - a finding is stored once: playbook_suggestions are
-- keyed by the playbook, the SHA-256 of its content when it was checked,
-- the rule and the location (file, line), so `chiffon lint` twice, or a
-- second failed run of an unchanged playbook, adds no rows.  Existing
-- duplicates are collapsed into their oldest row.  playbook_lint caches
-- ansible-lint's result per playbook content: a playbook whose hash was
-- linted is not linted again (its findings are the stored rows).
ALTER TABLE playbook_suggestions ADD COLUMN playbook_sha256 text
	CHECK (playbook_sha256 ~ '^[0-9a-f]{64}$');

DELETE FROM playbook_suggestions a USING playbook_suggestions b
	WHERE a.playbook = b.playbook
	AND a.playbook_sha256 IS NOT DISTINCT FROM b.playbook_sha256
	AND a.rule = b.rule AND a.file IS NOT DISTINCT FROM b.file
	AND a.line IS NOT DISTINCT FROM b.line AND a.id > b.id;

CREATE UNIQUE INDEX playbook_suggestions_once_idx ON playbook_suggestions
	(playbook, coalesce(playbook_sha256, ''), rule, coalesce(file, ''),
	coalesce(line, -1));

CREATE TABLE playbook_lint (
	playbook	text NOT NULL,
	playbook_sha256	text NOT NULL CHECK (playbook_sha256 ~ '^[0-9a-f]{64}$'),
	findings	integer NOT NULL CHECK (findings >= 0),
	linted_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (playbook, playbook_sha256)
);

-- What to do about a finding (the infra plugin's table of rules).
ALTER TABLE playbook_suggestions ADD COLUMN fix text;
