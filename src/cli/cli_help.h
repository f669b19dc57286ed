/*
 * `ironboot COMMAND --help` and `ironboot help [COMMAND]`: what each
 * command does and what its arguments mean.  Answered before the config
 * is loaded or the store opened, so help works anywhere.
 */
#ifndef IB_CLI_CLI_HELP_H
#define IB_CLI_CLI_HELP_H

#include <stdbool.h>
#include <stdio.h>

/* Whether argv[1..argc-1] (a command's arguments) ask for its help:
 * "--help" or "-h" before any "--". */
bool ib_cli_wants_help(int argc, char **argv);

/* Prints the help of command cmd to f.  Returns 0, or -ENOENT when cmd
 * is no command (nothing printed). */
int ib_cli_help(FILE *f, const char *cmd);

/* Prints the one-line summary of every command to f. */
void ib_cli_help_commands(FILE *f);

#endif
