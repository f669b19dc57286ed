/*
 * The web UI's files (ui/), compiled into the daemon by
 * scripts/embed_ui.py, so what /ui/ serves is what was built: no
 * directory to find, nothing a writable file could change.
 */
#ifndef IB_HTTPD_UI_FILES_H
#define IB_HTTPD_UI_FILES_H

#include <stddef.h>

/* One file of the UI. */
struct ib_ui_file {
	const char *name;		/* "app.js": served at /ui/app.js */
	const char *type;		/* its Content-Type */
	const unsigned char *data;	/* its bytes */
	size_t len;			/* how many */
};

extern const struct ib_ui_file ib_ui_files[];	/* sorted by name */
extern const size_t ib_ui_n_files;

#endif
