/*
 * output.h - text written to stdout by the commands: coloured as
 * ansible-playbook wrote it on a terminal, plain off one.
 *
 * ansible-playbook runs on a pty (so it colours its output and draws its
 * banners as wide as the pty) and run_output keeps its lines as written.
 * `chiffon run`, `show --output` and `audit` pass them through
 * output_line, which removes terminal escape sequences and cuts banners
 * to OUTPUT_PLAIN_COLS unless colour is wanted (output_color).
 */
#ifndef CHIFFON_OUTPUT_H
#define CHIFFON_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

/* Width of a banner line ("TASK [x] ****") in plain output. */
#define OUTPUT_PLAIN_COLS	80

/*
 * Whether to write colour for a --color=WHEN value: "always", "never",
 * or "auto" / NULL (stdout is a terminal and NO_COLOR is unset or
 * empty).  -1 for any other value.
 */
int	 output_color(const char *when);

/*
 * A copy of len bytes of line without terminal escape sequences (CSI,
 * OSC and two-byte ones), other control characters but tab, and the
 * trailing newline.  Caller frees.
 */
char	*output_plain(const char *line, size_t len);

/* Write one line (len bytes, newline added) to f, plain unless color. */
void	 output_line(FILE *f, const char *line, size_t len, int color);

#endif
